"""The Prometheus provider: each configured service in each environment as a row
whose metrics come from one batched instant query per metric, and the Metrics pane's
plots from range queries of the one service shown.

It holds no rollouts: a row's status is `unknown`, its health the thresholds' verdict
on the figures; the rows of the platform that runs the service carry its rollout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from console.domain.model import RolloutStatus, Series, Snapshot, Target, TargetRef, utcnow
from providers.base import BadResponse, Capability, NotFound, Provider, ProviderContext, Setting
from providers.http import HttpClient
from providers.prometheus.settings import DECLARED, check, parse, render
from providers.reads import together

MAX_POINTS = 240  # a plot is at most a terminal wide


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class PrometheusProvider(Provider):
    kind = "prometheus"
    capabilities = Capability.SNAPSHOT | Capability.METRICS
    declared_settings: ClassVar[tuple[Setting, ...]] = DECLARED

    def __init__(self, name: str, settings: Mapping[str, Any], context: ProviderContext):
        super().__init__(name, settings, context)
        self.config = parse(self.settings)
        self.client = HttpClient(self.config.http)
        self.client.conditional = False  # answers carry no ETag
        self._last: Snapshot | None = None

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        return check(settings)

    async def close(self) -> None:
        await self.client.close()

    async def _result(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        data = await self.client.get(path, params)
        if not isinstance(data, dict) or data.get("status") != "success":
            raise BadResponse(f"{path}: {str((data or {}).get('error', 'no result'))[:200]}")
        result = (data.get("data") or {}).get("result")
        if not isinstance(result, list):
            raise BadResponse(f"{path}: expected a result list")
        return result

    async def snapshot(self) -> Snapshot:
        now = utcnow()
        if self._last is not None and now - self._last.taken_at < timedelta(
            seconds=self.config.interval
        ):
            return self._last
        jobs = [
            (env, metric, render(query, self.config.services, label))
            for env, label in self.config.environments.items()
            for metric, query in self.config.queries.items()
        ]
        answers = await together(*(self._result("api/v1/query", {"query": q}) for _, _, q in jobs))
        figures: dict[tuple[str, str], dict[str, float]] = {}
        for (env, metric, _), result in zip(jobs, answers, strict=True):
            for sample in result:
                service = (sample.get("metric") or {}).get(self.config.service_label)
                value = _number((sample.get("value") or [None, None])[1])
                if service in self.config.services and value is not None:
                    figures.setdefault((service, env), {})[metric] = round(value, 2)
        targets = tuple(
            Target(
                ref=TargetRef(self.name, service, env, f"{service}@{env}"),
                revision="",
                status=RolloutStatus.UNKNOWN,
                updated_at=now,
                message="" if (service, env) in figures else "no figures from Prometheus",
                metrics=figures.get((service, env), {}),
            )
            for env in self.config.environments
            for service in self.config.services
        )
        self._last = Snapshot(self.name, targets, now)
        return self._last

    async def metrics(self, target: TargetRef, window: timedelta) -> list[Series]:
        """One range query per metric for this service, about `MAX_POINTS` steps."""
        if target.service not in self.config.services:
            raise NotFound(f"{target.service} is not a service of provider {self.name}")
        label = self.config.environments.get(target.environment)
        if label is None:
            raise NotFound(f"{target.environment} is not an environment of {self.name}")
        end = utcnow()
        step = max(1, int(window.total_seconds() / MAX_POINTS))
        params = {"start": (end - window).timestamp(), "end": end.timestamp(), "step": step}
        metrics = list(self.config.queries)
        answers = await together(
            *(
                self._result(
                    "api/v1/query_range",
                    {**params, "query": render(self.config.queries[m], (target.service,), label)},
                )
                for m in metrics
            )
        )
        out = []
        for metric, result in zip(metrics, answers, strict=True):
            points = [
                (datetime.fromtimestamp(float(at), end.tzinfo), v)
                for sample in result[:1]
                for at, raw in sample.get("values") or []
                if (v := _number(raw)) is not None
            ]
            if points:
                out.append(Series(metric, tuple(points)))
        return out
