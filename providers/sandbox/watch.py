"""The sandbox's monitoring: health checks of the simulated team's production services
and the alerts its incidents fire, so the sandbox shows the health rows and the alerts
strip with no account anywhere.

It watches the same world as the sandbox platforms (`sources` names the provider
playing each platform, whose changes it reads), so a rollback that ends an incident
on the Kubernetes row also ends its alert here. Its health rows are what a `health`
block would show; its alerts what an Alertmanager would hold, silences included
(kept in the world's file, so every process agrees).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from console.domain.alerts import Alert
from console.domain.model import ERROR_RATE, P99, RolloutStatus, Snapshot, Target, TargetRef
from providers.base import Capability, NotFound, Provider, ProviderContext, Setting
from providers.sandbox import incidents, metrics
from providers.sandbox.catalog import CATALOG, HTTP, PLATFORMS, PRODUCTION
from providers.sandbox.noise import hexdigits, key, smooth
from providers.sandbox.settings import DEFAULT_SEED
from providers.sandbox.store import WorldStore
from providers.sandbox.timeline import TargetState, Timeline

SOURCES = {"kubernetes": "sim-k8s", "ecs": "sim-ecs", "static": "sim-sites"}
# The incident's strength at which each alert fires: errors first, then latency.
ERRORS_AT = 0.5
LATENCY_AT = 0.15

DECLARED = (
    Setting("sources", "table", None, "platform = the sandbox provider playing it"),
    Setting("paused", "boolean", False, "freeze the world's clock (screenshots, tests)"),
    Setting("seed", "integer", DEFAULT_SEED, "the seed of the world's noise"),
)


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


class SandboxWatchProvider(Provider):
    kind = "sandbox-watch"
    capabilities = Capability.SNAPSHOT | Capability.ALERTS | Capability.SILENCE
    declared_settings: ClassVar[tuple[Setting, ...]] = DECLARED
    blocking = True  # reads the world's file

    def __init__(
        self,
        name: str,
        settings: Mapping[str, Any],
        context: ProviderContext,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(name, settings, context)
        from providers.sandbox.provider import PAUSED_AT

        self.sources = {**SOURCES, **dict(self.settings.get("sources") or {})}
        self.seed = int(self.settings.get("seed", DEFAULT_SEED))
        self._clock = (lambda: PAUSED_AT) if self.settings.get("paused") else (clock or _now)
        self.store = WorldStore(context.data_dir)

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        sources = settings.get("sources")
        if isinstance(sources, Mapping):
            for platform, provider in sources.items():
                if platform not in PLATFORMS:
                    return [("sources", f"unknown platform {platform!r} "
                             f"(known: {', '.join(PLATFORMS)})")]  # fmt: skip
                if not isinstance(provider, str) or not provider:
                    return [("sources", f"{platform}: expected a provider's name")]
        return []

    def _timelines(self, now: float) -> list[Timeline]:
        born = min(self.store.genesis(now), now)
        changes = {p: self.store.changes(name) for p, name in self.sources.items()}
        return [
            Timeline(spec, PRODUCTION, seed=self.seed, born=born,
                     changes=changes[spec.platform].get((spec.name, PRODUCTION), []))
            for spec in CATALOG
            if PRODUCTION in spec.replicas
        ]  # fmt: skip

    async def snapshot(self) -> Snapshot:
        now = self._clock().timestamp()
        silenced = self.store.silences(self.name, now)
        targets, alerts = [], []
        for timeline in self._timelines(now):
            state = timeline.state(now)
            figures = metrics.values(timeline, state, now)
            if timeline.spec.style == HTTP:
                targets.append(self._row(timeline, state, figures, now))
            alerts += self._alerts(timeline, state, figures, now, silenced)
        return Snapshot(self.name, tuple(targets), _dt(now), alerts=tuple(alerts))

    def _row(
        self, timeline: Timeline, state: TargetState, figures: dict[str, float], now: float
    ) -> Target:
        """A service's probes as a `health` block shows them: not ready (503) while the
        incident degrades it, its figures from its `/metrics`."""
        spec = timeline.spec
        k = key(self.seed, "probe", spec.name)
        took = [round(8 + 6 * (1 + smooth(k + i, now, 15))) for i in range(3)]
        ready = state.status is not RolloutStatus.DEGRADED
        parts = [] if ready else ["not ready: HTTP 503"]
        parts += [f"health 200 {took[0]}ms", f"ready {200 if ready else 503} {took[1]}ms",
                  f"metrics 200 {took[2]}ms"]  # fmt: skip
        return Target(
            ref=TargetRef(
                self.name, spec.name, PRODUCTION, f"https://{spec.name}.sandbox.internal"
            ),
            revision=state.revision,
            status=RolloutStatus.READY if ready else RolloutStatus.DEGRADED,
            ready=2 if ready else 1,
            desired=2,
            updated_at=_dt(now),
            message=" · ".join(parts),
            metrics={n: figures[n] for n in (ERROR_RATE, P99) if n in figures},
        )

    def _alerts(
        self,
        timeline: Timeline,
        state: TargetState,
        figures: dict[str, float],
        now: float,
        silenced: dict[str, tuple[str, ...]],
    ) -> list[Alert]:
        """What an Alertmanager holds for one service: its error rate past the critical
        threshold, then its latency, while the incident lasts."""
        service = timeline.spec.name
        found = []
        if state.incident >= ERRORS_AT:
            found.append(("HighErrorRate", "critical", ERRORS_AT,
                          f"{figures.get(ERROR_RATE, 0):.1f}% of requests fail"))  # fmt: skip
        elif state.incident >= LATENCY_AT:
            found.append(("HighLatency", "warning", LATENCY_AT,
                          f"p99 at {figures.get(P99, 0):.0f} ms"))  # fmt: skip
        out = []
        began = incidents.incident_start(now)
        for name, severity, at, summary in found:
            fingerprint = hexdigits(key(self.seed, "alert", service, name), 16)
            by = silenced.get(fingerprint, ())
            labels = {"alertname": name, "severity": severity, "service": service,
                      "environment": PRODUCTION}  # fmt: skip
            out.append(
                Alert(
                    provider=self.name,
                    fingerprint=fingerprint,
                    name=name,
                    severity=severity,
                    summary=summary,
                    service=service,
                    environment=PRODUCTION,
                    state="suppressed" if by else "active",
                    silenced_by=by,
                    starts_at=_dt(min(now, began + incidents.RAMP * at)),
                    labels=labels,
                )
            )
        return out

    async def silence(self, alert: Alert, until: datetime, comment: str, author: str) -> str:
        silence = str(uuid.uuid4())
        self.store.add_silence(
            self.name, silence, alert.fingerprint, until.timestamp(), author, comment
        )
        return silence

    async def expire(self, silence: str) -> str:
        if not self.store.expire_silence(self.name, silence):
            raise NotFound(f"no running silence {silence} in {self.name}")
        return f"silence {silence} expired"

    async def close(self) -> None:
        self.store.close()


def _now() -> datetime:
    return datetime.now(UTC)
