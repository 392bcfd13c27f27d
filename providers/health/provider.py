"""The health provider: every configured service's `/health`, `/ready` and `/metrics`
probed once per interval, all services at once but never more than `max_connections`
probes (and so sockets) open together.

A service is a target: ready when its health and readiness checks pass, degraded
when it is alive but not ready, failed when its health check fails or gives no
answer. Its row carries each probe's status and latency, and the error rate and
p99 its `/metrics` page allows; those figures are kept per cycle for the Metrics
pane's plots.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx

from console.domain.model import (
    ERROR_RATE,
    P99,
    Canary,
    RolloutStatus,
    Series,
    Snapshot,
    Target,
    TargetRef,
    utcnow,
)
from providers.base import Capability, NotFound, Provider, ProviderContext, Setting
from providers.health import exposition
from providers.health.probe import Probe, probe
from providers.health.settings import DECLARED, check, parse
from providers.http.transport import PooledTransport
from providers.reads import together

HISTORY = 720  # cycles of figures kept per service: six hours at 30 s


class HealthProvider(Provider):
    kind = "health"
    capabilities = Capability.SNAPSHOT | Capability.METRICS
    declared_settings: ClassVar[tuple[Setting, ...]] = DECLARED

    def __init__(self, name: str, settings: Mapping[str, Any], context: ProviderContext):
        super().__init__(name, settings, context)
        self.config = parse(self.settings)
        self._client: httpx.AsyncClient | None = None
        self._gate: asyncio.Semaphore | None = None
        self._cycle: asyncio.Task[Snapshot] | None = None
        self._last: Snapshot | None = None
        self._next_at: datetime | None = None
        self._scrapes: dict[str, exposition.Scrape] = {}
        self._history: dict[str, deque[tuple[datetime, dict[str, float]]]] = {}

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        return check(settings)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            n = self.config.max_connections
            self._client = httpx.AsyncClient(
                transport=PooledTransport(n),
                headers={"User-Agent": "quorum"},
                follow_redirects=False,
            )
            self._gate = asyncio.Semaphore(n)
        return self._client

    async def close(self) -> None:
        if self._cycle is not None and not self._cycle.done():
            self._cycle.cancel()
            await asyncio.gather(self._cycle, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _ref(self, service: str) -> TargetRef:
        return TargetRef(self.name, service, self.config.environment, self.config.urls[service])

    # --- probing ------------------------------------------------------------------

    async def snapshot(self) -> Snapshot:
        """The last cycle's targets until the interval passes, then a new cycle.

        A cycle runs as a task of its own: when the hub's deadline cancels this call,
        the cycle goes on and the next call takes its result.
        """
        now = utcnow()
        if self._last is not None and self._next_at is not None and now < self._next_at:
            return self._last
        if self._cycle is None or self._cycle.done():
            self._cycle = asyncio.create_task(self.probe_all())
        self._last = await asyncio.shield(self._cycle)
        self._next_at = self._last.taken_at + timedelta(seconds=self.config.interval)
        return self._last

    async def probe_all(self) -> Snapshot:
        """One cycle: every service probed at once, within the connection bound."""
        services = list(self.config.urls)
        targets = await together(*(self._service(s) for s in services))
        return Snapshot(self.name, tuple(targets), utcnow())

    async def _probe(self, check_name: str, url: str) -> Probe:
        client = self._http()
        assert self._gate is not None
        async with self._gate:
            return await probe(client, check_name, url, self.config.timeout)

    async def _probes(self, base: str) -> dict[str, Probe]:
        checks = list(self.config.paths.items())
        probes = await together(*(self._probe(name, base + path) for name, path in checks))
        return {p.check: p for p in probes}

    async def _service(self, service: str) -> Target:
        canary_url = self.config.canaries.get(service)
        if canary_url is None:
            found = await self._probes(self.config.urls[service])
            beside: dict[str, Probe] = {}
        else:
            found, beside = await together(
                self._probes(self.config.urls[service]), self._probes(canary_url)
            )
        served = self._requests(service, found.get("metrics"))
        figures, note = self._figures(service, found.get("metrics"))
        at = utcnow()
        if figures:
            self._history.setdefault(service, deque(maxlen=HISTORY)).append((at, figures))
        row = target_of(self._ref(service), found, figures, note, at)
        if canary_url is None:
            return row
        return replace(row, canary=self._canary(service, beside, served))

    def _canary(self, service: str, found: dict[str, Probe], served: float | None) -> Canary:
        """The canary's revision (its health answer's version), its own error rate, and
        its share of the requests both answered since the last cycle."""
        key = f"{service} canary"
        requests = self._requests(key, found.get("metrics"))
        figures, _ = self._figures(key, found.get("metrics"))
        gates = [p for name in ("health", "ready") if (p := found.get(name)) is not None]
        revision = next((v for p in gates if (v := p.field("version", "revision"))), "canary")
        total = (requests or 0.0) + (served or 0.0)
        share = (
            round(100.0 * (requests or 0.0) / total, 1) if requests is not None and total else None
        )
        return Canary(revision, figures.get(ERROR_RATE), share, requests)

    def _scrape(self, page: Probe | None) -> exposition.Scrape | None:
        if page is None or not page.passed:
            return None
        try:
            return exposition.read(
                page.body, self.config.requests_metric, self.config.latency_metric
            )
        except exposition.NotExposition:
            return None

    def _requests(self, key: str, page: Probe | None) -> float | None:
        """Requests counted since the last cycle (read before `_figures` keeps the page)."""
        scrape = self._scrape(page)
        return None if scrape is None else exposition.requests_since(scrape, self._scrapes.get(key))

    def _figures(self, service: str, page: Probe | None) -> tuple[dict[str, float], str]:
        """Error rate and p99 from a `/metrics` answer, and a note when it gave none."""
        if page is None or not page.passed:
            return {}, ""
        try:
            scrape = exposition.read(
                page.body, self.config.requests_metric, self.config.latency_metric
            )
        except exposition.NotExposition as exc:
            return {}, f"metrics {exc}"
        figures = exposition.derive(scrape, self._scrapes.get(service))
        self._scrapes[service] = scrape
        if figures:
            return figures, ""
        if scrape.requests is None and not scrape.buckets:
            return {}, "metrics without request counts or latency buckets"
        return {}, "no requests since the last probe"

    async def metrics(self, target: TargetRef, window: timedelta) -> list[Series]:
        """Error rate and p99 of each cycle inside `window`, oldest first."""
        if target.service not in self.config.urls:
            raise NotFound(f"{target.service} is not a service of provider {self.name}")
        since = utcnow() - window
        kept = [(at, f) for at, f in self._history.get(target.service, ()) if at >= since]
        return [
            Series(name, tuple((at, f[name]) for at, f in kept if name in f))
            for name in (ERROR_RATE, P99)
            if any(name in f for _, f in kept)
        ]


def target_of(
    ref: TargetRef, found: dict[str, Probe], figures: dict[str, float], note: str, at: datetime
) -> Target:
    """A service's row from its probes: the failing check first in the message."""
    health, ready = found.get("health"), found.get("ready")
    gates = [p for p in (health, ready) if p is not None]
    if health is not None and not health.passed:
        status, why = RolloutStatus.FAILED, f"unhealthy: {health.verdict}"
    elif ready is not None and not ready.passed:
        status, why = RolloutStatus.DEGRADED, f"not ready: {ready.verdict}"
    elif gates:
        status, why = RolloutStatus.READY, ""
    else:
        status, why = RolloutStatus.UNKNOWN, ""
    parts = [why] if why else []
    parts += [_describe(p) for p in found.values()]
    if note:
        parts.append(note)
    revision = next((v for p in gates if (v := p.field("version", "revision"))), "")
    return Target(
        ref=ref,
        revision=revision,
        status=status,
        ready=sum(p.passed for p in gates),
        desired=len(gates),
        updated_at=at,
        message=" · ".join(parts),
        metrics=figures,
    )


def _describe(p: Probe) -> str:
    said = f"{p.status}" if p.status is not None else p.error
    return f"{p.check} {said} {p.latency_ms:.0f}ms"
