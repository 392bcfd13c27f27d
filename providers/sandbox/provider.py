"""The sandbox provider: a simulated platform that behaves like a real backend.

`quorum` with no config shows three of these (kubernetes, ecs, static), so a new
user sees the whole product at once; nothing in the console treats them specially.
The world is a function of the wall clock plus the changes stored in the data
directory (see `store`), so separate processes agree without a daemon, and a
paused world freezes its clock at `PAUSED_AT` so the screen stands still.

Settings: `platform` (kubernetes | ecs | static, required), `log_rate` (lines a
second per target), `paused`, `seed`, and `action_delay` (seconds a change takes
to be accepted, to show an action in flight). Tests move the world's clock through
the constructor's `clock` keyword, never through settings.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from console.domain.model import (
    EventInfo,
    LogLine,
    PodInfo,
    Revision,
    RolloutStatus,
    Series,
    Snapshot,
    Target,
    TargetDetails,
    TargetRef,
    utcnow,
)
from providers.base import (
    Capability,
    NotFound,
    Provider,
    ProviderContext,
    Refused,
    Unsupported,
)
from providers.sandbox import metrics, pods
from providers.sandbox import settings as sandbox_settings
from providers.sandbox.catalog import ECS, KUBERNETES, STATIC, ServiceSpec, services_on
from providers.sandbox.logs import LogWriter
from providers.sandbox.revisions import history, valid_revision
from providers.sandbox.store import (
    DEPLOY,
    PAUSE,
    RESTART,
    RESUME,
    ROLLBACK,
    SCALE,
    Change,
    WorldStore,
)
from providers.sandbox.timeline import TargetState, Timeline

# The instant a paused world stands at (seed 1): web in production at the height of its
# incident, api and billing in staging rolling out new builds, so a still screen still
# shows every state.
PAUSED_AT = datetime(2026, 3, 2, 9, 3, 38, tzinfo=UTC)

RETENTION = timedelta(hours=1)  # how far back logs go
MAX_BACKLOG = 20_000  # lines returned at most before following
METRIC_STEP = 5.0  # seconds between metric points ...
MAX_POINTS = 720  # ... widened so a long window stays this many points
MAX_REPLICAS = 50


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _where(spec: ServiceSpec, environment: str) -> str:
    return f"{spec.target} ({environment})"


def _pod(timeline: Timeline, state: TargetState, replica: pods.Replica) -> PodInfo:
    """A replica as the details pane lists it, in its platform's words."""
    ecs = timeline.spec.platform == ECS
    if replica.ready:
        phase, reason = ("RUNNING" if ecs else "Running"), ""
    elif state.replacing:
        phase, reason = ("PROVISIONING" if ecs else "Pending"), "ContainerCreating"
    else:
        phase, reason = ("RUNNING" if ecs else "Running"), "Unhealthy"
    return PodInfo(
        name=replica.name,
        phase=phase,
        ready=replica.ready,
        reason=reason,
        containers=(timeline.spec.container,),
        started_at=_dt(replica.started),
    )


class SandboxProvider(Provider):
    kind = "sandbox"
    capabilities: ClassVar[Capability] = (
        Capability.SNAPSHOT
        | Capability.LOGS
        | Capability.METRICS
        | Capability.REVISIONS
        | Capability.DEPLOY
        | Capability.ROLLBACK
        | Capability.RESTART
        | Capability.SCALE
        | Capability.PAUSE
    )
    declared_settings = sandbox_settings.DECLARED
    # A snapshot reads the world's file and replays every target's timeline.
    blocking = True

    def __init__(
        self,
        name: str,
        settings: Mapping[str, Any],
        context: ProviderContext,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """`clock` is the world's clock, for tests; `paused = true` overrides it."""
        super().__init__(name, settings, context)
        self.config = sandbox_settings.SandboxSettings.parse(self.settings)
        self.specs = {spec.name: spec for spec in services_on(self.config.platform)}
        frozen = PAUSED_AT
        self._clock = (lambda: frozen) if self.config.paused else (clock or utcnow)
        self.store = WorldStore(context.data_dir)

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        return sandbox_settings.check(settings)

    @property
    def effective_capabilities(self) -> Capability:
        """A static site has no replicas to scale; only Kubernetes pauses a rollout
        (`kubectl rollout pause`), as on the platforms the sandbox plays."""
        caps = super().effective_capabilities
        if self.config.platform == STATIC:
            caps &= ~Capability.SCALE
        if self.config.platform != KUBERNETES:
            caps &= ~Capability.PAUSE
        return caps

    # -- the world -------------------------------------------------------------

    def now(self) -> float:
        """The world's time, in seconds since the epoch."""
        return self._clock().timestamp()

    def _timelines(self, now: float) -> dict[tuple[str, str], Timeline]:
        born = min(self.store.genesis(now), now)
        changes = self.store.changes(self.name)
        return {
            (spec.name, env): Timeline(
                spec,
                env,
                seed=self.config.seed,
                born=born,
                changes=changes.get((spec.name, env), []),
            )
            for spec in self.specs.values()
            for env in spec.environments
        }

    def _spec(self, ref: TargetRef) -> ServiceSpec:
        spec = self.specs.get(ref.service)
        if spec is None or ref.environment not in spec.replicas:
            raise NotFound(f"{ref.service}@{ref.environment} is not served by {self.name}")
        return spec

    def _timeline(self, ref: TargetRef, now: float) -> Timeline:
        spec = self._spec(ref)
        return self._timelines(now)[(spec.name, ref.environment)]

    def _ref(self, spec: ServiceSpec, env: str) -> TargetRef:
        return TargetRef(self.name, spec.name, env, spec.target)

    # -- reading ---------------------------------------------------------------

    def _target(self, timeline: Timeline, state: TargetState, now: float) -> Target:
        return Target(
            ref=self._ref(timeline.spec, timeline.environment),
            revision=state.revision,
            status=state.status,
            ready=state.ready,
            desired=state.desired,
            updated_at=_dt(state.updated_at),
            message=state.message,
            metrics=metrics.values(timeline, state, now),
        )

    async def snapshot(self) -> Snapshot:
        now = self.now()
        targets = tuple(
            self._target(timeline, timeline.state(now), now)
            for timeline in self._timelines(now).values()
        )
        return Snapshot(provider=self.name, targets=targets, taken_at=_dt(now))

    async def metrics(self, target: TargetRef, window: timedelta) -> list[Series]:
        now = self.now()
        timeline = self._timeline(target, now)
        seconds = max(window.total_seconds(), 0.0)
        step = max(METRIC_STEP, seconds / MAX_POINTS)
        count = int(seconds // step) + 1
        times = [now - (count - 1 - i) * step for i in range(count)]
        samples = [metrics.values(timeline, timeline.state(t), t) for t in times]
        return [
            Series(
                name,
                tuple((_dt(t), sample[name]) for t, sample in zip(times, samples, strict=True)),
            )
            for name in metrics.metric_names(timeline)
        ]

    async def revisions(self, target: TargetRef) -> list[Revision]:
        now = self.now()
        return [
            Revision(d.revision, _dt(d.at), d.description, current=i == 0)
            for i, d in enumerate(history(self._timeline(target, now), now))
        ]

    async def details(self, target: TargetRef) -> TargetDetails:
        now = self.now()
        timeline = self._timeline(target, now)
        state = timeline.state(now)
        running = tuple(_pod(timeline, state, r) for r in pods.replicas(timeline, state))
        events = [
            EventInfo(_dt(e.at), "Normal", e.reason, e.summary, source=timeline.spec.target)
            for e in history(timeline, now, distinct=False)
        ]
        if state.status is RolloutStatus.DEGRADED:
            events.insert(0, EventInfo(_dt(now), "Warning", "Unhealthy", state.message))
        return TargetDetails(self._target(timeline, state, now), running, tuple(events[:10]))

    def logs(
        self,
        target: TargetRef,
        *,
        follow: bool = False,
        since: timedelta | None = None,
        tail: int | None = None,
        container: str | None = None,
        previous: bool = False,
    ) -> AsyncIterator[LogLine]:
        spec = self._spec(target)
        if container is not None and container != spec.container:
            raise NotFound(
                f"{spec.target} has no container {container!r} (it has {spec.container!r})"
            )
        return self._logs(
            target, follow=follow and not previous, since=since, tail=tail, previous=previous
        )

    async def _logs(
        self,
        target: TargetRef,
        *,
        follow: bool,
        since: timedelta | None,
        tail: int | None,
        previous: bool,
    ) -> AsyncIterator[LogLine]:
        now = self.now()
        writer = LogWriter(self._timeline(target, now), self.config.log_rate)
        end = writer.timeline.state(now).rollout_at if previous else now
        window = (RETENTION if since is None else min(since, RETENTION)).total_seconds()
        stop = writer.index_at(end)
        count = max(0, stop - writer.index_at(end - window))
        count = min(count, MAX_BACKLOG if tail is None else max(0, tail))
        async for line in self._batched(writer, stop - count, stop):
            yield line
        cursor = stop
        pause = 0.25 if self.config.log_rate < 50 else 0.1
        while follow:
            await asyncio.sleep(1.0 if self.config.paused else pause)
            stop = writer.index_at(self.now())
            if stop <= cursor:
                continue
            # Changes made since (a restart by another process) show in the new lines.
            writer = LogWriter(self._timeline(target, self.now()), self.config.log_rate)
            async for line in self._batched(writer, max(cursor, stop - MAX_BACKLOG), stop):
                yield line
            cursor = stop

    @staticmethod
    async def _batched(writer: LogWriter, start: int, stop: int) -> AsyncIterator[LogLine]:
        """Yields lines, letting the event loop run between batches of a flood."""
        for n, line in enumerate(writer.lines(start, stop), 1):
            yield line
            if n % 2000 == 0:
                await asyncio.sleep(0)

    # -- changing --------------------------------------------------------------

    def _allowed(self, capability: Capability, verb: str) -> None:
        if not self.can(capability):
            if self.readonly:
                raise Refused(f"{self.name} is read-only: cannot {verb}")
            raise Unsupported(f"{self.name} ({self.config.platform}) cannot {verb}")

    async def _record(
        self, target: TargetRef, decide: Callable[[Timeline, float], Change]
    ) -> Change:
        spec = self._spec(target)
        if self.config.action_delay:
            await asyncio.sleep(self.config.action_delay)

        def within_lock(changes: list[Change]) -> Change:
            now = self.now()
            born = min(self.store.genesis(now), now)
            timeline = Timeline(
                spec, target.environment, seed=self.config.seed, born=born, changes=changes
            )
            return decide(timeline, now)

        return self.store.record(self.name, (spec.name, target.environment), within_lock)

    def _unit(self, spec: ServiceSpec, n: int) -> str:
        if spec.platform == STATIC:
            return "site"
        noun = "task" if spec.platform == ECS else "pod"
        return f"{n} {noun}" + ("" if n == 1 else "s")

    async def check_revision(self, target: TargetRef, revision: str) -> str | None:
        return valid_revision(revision)

    async def deploy(self, target: TargetRef, revision: str) -> str:
        self._allowed(Capability.DEPLOY, "deploy")
        problem = valid_revision(revision)
        if problem:
            raise Refused(problem)
        spec = self._spec(target)

        def decide(timeline: Timeline, now: float) -> Change:
            self._not_paused(timeline, now, "deploy")
            return Change(now, DEPLOY, revision)

        change = await self._record(target, decide)
        desired = self._timeline(target, change.at).desired_at(change.at)[0]
        where = _where(spec, target.environment)
        return f"{where}: rolling out {revision} to {self._unit(spec, desired)}"

    async def rollback(self, target: TargetRef, to: str | None = None) -> str:
        self._allowed(Capability.ROLLBACK, "roll back")
        spec = self._spec(target)
        where = f"{spec.name}@{target.environment}"
        current = ""

        def decide(timeline: Timeline, now: float) -> Change:
            nonlocal current
            self._not_paused(timeline, now, "roll back")
            known = history(timeline, now)
            current = known[0].revision
            ids = [d.revision for d in known]
            if to is None:
                # Every target has history: four releases, or CI builds in staging.
                return Change(now, ROLLBACK, known[1].revision)
            if to == current:
                raise Refused(f"{where} already runs {to}")
            if to not in ids:
                raise Refused(f"{where} never ran {to!r} (recent: {', '.join(ids[:5])})")
            return Change(now, ROLLBACK, to)

        change = await self._record(target, decide)
        return (
            f"{_where(spec, target.environment)}: rolling back from {current} to {change.revision}"
        )

    async def restart(self, target: TargetRef) -> str:
        self._allowed(Capability.RESTART, "restart")
        spec = self._spec(target)

        def decide(timeline: Timeline, now: float) -> Change:
            self._not_paused(timeline, now, "restart")
            return Change(now, RESTART)

        change = await self._record(target, decide)
        if spec.platform == STATIC:
            return f"{_where(spec, target.environment)}: invalidating the CDN cache"
        desired = self._timeline(target, change.at).desired_at(change.at)[0]
        return f"{_where(spec, target.environment)}: restarting {self._unit(spec, desired)}"

    async def scale(self, target: TargetRef, replicas: int) -> str:
        self._allowed(Capability.SCALE, "scale")
        spec = self._spec(target)
        if (
            isinstance(replicas, bool)
            or not isinstance(replicas, int)
            or not 0 <= replicas <= MAX_REPLICAS
        ):
            raise Refused(
                f"replicas must be a whole number from 0 to {MAX_REPLICAS}, not {replicas!r}"
            )
        before = 0

        def decide(timeline: Timeline, now: float) -> Change:
            nonlocal before
            before = timeline.desired_at(now)[0]
            return Change(now, SCALE, replicas=replicas)

        await self._record(target, decide)
        where = _where(spec, target.environment)
        return f"{where}: scaling from {before} to {self._unit(spec, replicas)}"

    @staticmethod
    def _not_paused(timeline: Timeline, now: float, verb: str) -> None:
        """A paused target takes no new rollout, as Kubernetes refuses a rollback or
        restart of a paused Deployment: resuming it is the way on."""
        if timeline.paused_since(now) is not None:
            service, env = timeline.spec.name, timeline.environment
            raise Refused(
                f"can't {verb} {service}@{env}: its rollout is paused"
                f" (resume it first: quorum resume {service} --env {env})"
            )

    async def pause(self, target: TargetRef) -> str:
        """Stops the rollout under way where it stands; nothing new rolls out until resume."""
        return await self._set_paused(target, True)

    async def resume(self, target: TargetRef) -> str:
        return await self._set_paused(target, False)

    async def _set_paused(self, target: TargetRef, pausing: bool) -> str:
        verb = "pause" if pausing else "resume"
        self._allowed(Capability.PAUSE, verb)
        spec = self._spec(target)
        where = f"{spec.name}@{target.environment}"

        def decide(timeline: Timeline, now: float) -> Change:
            if (timeline.paused_since(now) is not None) == pausing:
                raise Refused(f"{where} is {'already' if pausing else 'not'} paused")
            return Change(now, PAUSE if pausing else RESUME)

        change = await self._record(target, decide)
        place = _where(spec, target.environment)
        if not pausing:
            return f"{place}: rollout resumed"
        state = self._timeline(target, change.at).state(change.at)
        if state.replacing:
            updated = f"{state.ready} of {self._unit(spec, state.desired)}"
            return f"{place}: rollout paused with {updated} updated"
        return f"{place}: paused (no rollout under way; none starts until resumed)"

    async def close(self) -> None:
        self.store.close()
