"""Keeps the latest snapshot of every provider, one refresh loop per provider.

The next poll of a provider is scheduled when its last one finishes, so polls never
overlap and a slow backend slows only itself. Each call has a timeout; failures
back off exponentially; a provider's last good snapshot stays available marked
stale, with its age and the error, until the provider recovers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from console.domain.alerts import Alert, firing, is_critical
from console.domain.canary import CanaryVerdict, judge
from console.domain.model import Health, Snapshot, Target, utcnow
from console.domain.sites import Site, fold_sites
from console.domain.thresholds import Thresholds
from console.engine.reads import READ_TIMEOUT, describe_failure, take_snapshot
from console.engine.session import Session
from providers.base import Provider

_WORST = (Health.UNKNOWN, Health.OK, Health.WARNING, Health.CRITICAL)


@dataclass(frozen=True)
class ProviderState:
    """What the hub knows of one provider right now."""

    name: str
    kind: str
    snapshot: Snapshot | None = None
    error: str | None = None
    last_ok: datetime | None = None
    failures: int = 0
    broken: bool = False  # never built (bad config, failed import); never polled

    @property
    def stale(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class TargetRow:
    """One row of the Services pane and of `quorum status`."""

    target: Target
    health: Health
    stale: bool = False
    error: str | None = None
    # The firing alerts naming this target's service (and environment), worst first.
    alerts: tuple[Alert, ...] = ()
    # The verdict on the target's canary, while one takes traffic.
    canary: CanaryVerdict | None = None
    # The site this row stands for, when it is a front's with platforms behind it.
    site: Site | None = None

    @property
    def key(self) -> str:
        return self.target.ref.key


class Hub:
    """Owns the refresh loops; `on_update` is called after every poll of a provider."""

    def __init__(
        self,
        session: Session,
        *,
        interval: float = 2.0,
        timeout: float = READ_TIMEOUT,
        max_backoff: float = 60.0,
        on_update: Callable[[ProviderState], None] | None = None,
    ) -> None:
        self.session = session
        self.interval = interval
        self.timeout = timeout
        self.max_backoff = max_backoff
        self.on_update = on_update
        self.states: dict[str, ProviderState] = {}
        for name, provider in session.providers.items():
            self.states[name] = ProviderState(name=name, kind=provider.kind)
        for broken in session.broken:
            self.states[broken.name] = ProviderState(
                name=broken.name, kind=broken.kind, error=broken.reason, broken=True
            )
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wake: dict[str, asyncio.Event] = {}

    @property
    def providers(self) -> dict[str, Provider]:
        return self.session.providers

    async def poll(self, name: str) -> ProviderState:
        """One snapshot of one provider, with the timeout; never raises."""
        provider = self.session.providers[name]
        state = self.states[name]
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
            # cancellation that lands as the call completes, and stop() then waits forever.
            async with asyncio.timeout(self.timeout):
                snapshot = await take_snapshot(provider)
            if not isinstance(snapshot, Snapshot) or not all(
                isinstance(t, Target) for t in snapshot.targets
            ):
                raise TypeError(f"snapshot() returned {type(snapshot).__name__}")
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # any failure of a backend is shown, not raised
            state = replace(state, error=describe_failure(exc), failures=state.failures + 1)
        else:
            state = replace(state, snapshot=snapshot, error=None, last_ok=utcnow(), failures=0)
        self.states[name] = state
        if self.on_update is not None:
            self.on_update(state)
        return state

    async def refresh_all(self) -> list[ProviderState]:
        """One poll of every provider at once: a cycle lasts as long as the slowest."""
        names = list(self.session.providers)
        await asyncio.gather(*(self.poll(n) for n in names))
        return list(self.states.values())

    def delay_after(self, state: ProviderState) -> float:
        if state.failures == 0:
            return self.interval
        return min(self.interval * 2**state.failures, self.max_backoff)

    async def _loop(self, name: str) -> None:
        wake = self._wake[name]
        provider = self.session.providers[name]
        while True:
            state = await self.poll(name)
            wake.clear()
            # Sleep until the interval (or backoff) passes, ctrl-r, or a watch event.
            waiters = [
                asyncio.create_task(wake.wait()),
                asyncio.create_task(provider.wait_changed()),
            ]
            try:
                await asyncio.wait(
                    waiters, timeout=self.delay_after(state), return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                for waiter in waiters:
                    waiter.cancel()
                await asyncio.gather(*waiters, return_exceptions=True)

    def start(self) -> None:
        """Start one loop per provider on the running event loop."""
        for name in self.session.providers:
            if name not in self._tasks:
                self._wake[name] = asyncio.Event()
                self._tasks[name] = asyncio.create_task(self._loop(name), name=f"hub:{name}")

    def refresh_now(self, name: str | None = None) -> None:
        """Poll now instead of waiting for the interval (ctrl-r); backoff restarts."""
        for n, event in self._wake.items():
            if name is None or n == name:
                event.set()

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def rows(self) -> list[TargetRow]:
        """Every known target, with health from the thresholds and staleness; the
        platforms behind a front show as its one site row, as in the Services pane
        (console.domain.sites.fold_sites), stale or failing when any of them is."""
        rows: list[TargetRow] = []
        config = self.session.config
        alerts = firing(a for s in self.states.values() if s.snapshot for a in s.snapshot.alerts)
        targets: list[Target] = []
        read_by: dict[str, ProviderState] = {}
        for state in self.states.values():
            if state.snapshot is None:
                continue
            for target in state.snapshot.targets:
                targets.append(target)
                read_by[target.ref.key] = state
        for target, site in fold_sites(targets):
            states = [read_by[k] for k in (site.keys if site else (target.ref.key,))]
            thresholds: Thresholds = config.thresholds_for(target.ref.service)
            on = tuple(a for a in alerts if a.names(target.ref.service, target.ref.environment))
            health = thresholds.health(target.metrics, target.alarms)
            for alert in on:  # an alert is a level like a metric's: the worst wins
                level = Health.CRITICAL if is_critical(alert) else Health.WARNING
                health = max(health, level, key=_WORST.index)
            rows.append(
                TargetRow(
                    target=target,
                    health=health,
                    stale=any(s.stale for s in states),
                    error=next((s.error for s in states if s.error), None),
                    alerts=on,
                    canary=judge(target.canary, thresholds) if target.canary else None,
                    site=site,
                )
            )
        return rows
