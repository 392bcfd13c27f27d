"""One target's life as a function of time: which revision runs, whether a rollout
is under way, how many replicas are ready, how the incident stands.

A target's history has three sources merged by time: releases made before the
world was born (placed relative to its birth, so they never move), builds that
CI pushes to staging every few minutes (derived from the clock), and the changes
people made, read from the store. `state(t)` answers for any instant, so a
snapshot, a metrics series and a log backlog all agree with each other.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

from console.domain.model import RolloutStatus
from providers.sandbox import incidents
from providers.sandbox.catalog import CDN, ECS, JOBS, PRODUCTION, STAGING, STATIC, ServiceSpec
from providers.sandbox.noise import hexdigits, key, mix
from providers.sandbox.store import DEPLOY, PAUSE, RESTART, RESUME, ROLLBACK, SCALE, Change

HOUR = 3600.0
DAY = 24 * HOUR
RELEASE = "release"  # made before the world was born
BUILD = "build"  # pushed to staging by CI


@dataclass(frozen=True)
class Deployment:
    """A moment a target's revision changed; `order` breaks ties at one instant."""

    at: float
    revision: str
    kind: str
    order: int = 0


@dataclass(frozen=True)
class TargetState:
    """Everything about one target at one instant."""

    revision: str
    rollout_at: float  # when the pods now running (or starting) began rolling out
    desired: int
    ready: int
    status: RolloutStatus
    message: str
    updated_at: float
    incident: float  # 0 healthy .. 1 at the height of the incident
    replacing: bool  # a rollout is replacing replicas (not merely scaling up)

    @property
    def rolling(self) -> bool:
        return self.status is RolloutStatus.PROGRESSING


def rollout_seconds(platform: str, desired: int) -> float:
    """How long replacing every replica takes: ~10-20 s, longer on ECS."""
    if platform == STATIC:
        return 10.0
    if platform == ECS:
        return min(20.0, max(12.0, 8.0 + 4.0 * desired))
    return min(20.0, max(10.0, 6.0 + 3.0 * desired))


def scale_step(platform: str) -> float:
    """Seconds until each added replica is ready."""
    return 3.0 if platform == ECS else 2.0


class Timeline:
    """The history of one (service, environment) and its state at any instant."""

    def __init__(
        self,
        spec: ServiceSpec,
        environment: str,
        *,
        seed: int,
        born: float,
        changes: list[Change],
    ) -> None:
        self.spec = spec
        self.environment = environment
        self.seed = seed
        self.key = key(seed, spec.name, environment)
        self.base_replicas = spec.replicas[environment]
        ordered = sorted(enumerate(changes), key=lambda ic: (ic[1].at, ic[0]))
        self.deploys = [
            Deployment(c.at, c.revision, c.kind, order=i + 1)
            for i, (_, c) in enumerate(ordered)
            if c.kind in (DEPLOY, ROLLBACK)
        ]
        self._deploy_times = [d.at for d in self.deploys]
        self.restarts = [c.at for _, c in ordered if c.kind == RESTART]
        self.scales = [(c.at, c.replicas) for _, c in ordered if c.kind == SCALE]
        self._scale_times = [at for at, _ in self.scales]
        self.pauses = [(c.at, c.kind == PAUSE) for _, c in ordered if c.kind in (PAUSE, RESUME)]
        self._pause_times = [at for at, _ in self.pauses]
        self.releases = () if environment == STAGING else self._releases(born)
        # Staging builds arrive every four to six minutes, each service on its own beat.
        self.build_period = 240.0 + (self.key % 121)
        self.build_phase = float((self.key >> 8) % 240)

    # -- history ---------------------------------------------------------------

    def _tag(self, k: int) -> str:
        sha = hexdigits(k, 7)
        return sha if self.spec.style == CDN else f"sha-{sha}"

    def _releases(self, born: float) -> tuple[Deployment, ...]:
        """Four releases made in the weeks (production) or hours (dev) before birth."""
        k = self.key
        if self.environment == PRODUCTION:
            latest = born - DAY - (k % 20) * HOUR
            gaps = [(2 + (k >> (8 + 4 * i)) % 5) * DAY for i in range(3)]
        else:
            latest = born - HOUR - (k % 5) * HOUR
            gaps = [(3 + (k >> (8 + 4 * i)) % 7) * HOUR for i in range(3)]
        times = [latest - sum(gaps[i:]) for i in range(3)] + [latest]
        if self.environment == PRODUCTION and self.spec.style != CDN:
            major, minor = 1 + k % 3, 6 + (k >> 16) % 12
            names = [f"v{major}.{minor - 3 + i}.{(k >> (20 + 3 * i)) % 4}" for i in range(4)]
        else:
            names = [self._tag(mix(k + i)) for i in range(4)]
        return tuple(Deployment(at, name, RELEASE) for at, name in zip(times, names, strict=True))

    def _build(self, j: int) -> Deployment:
        at = self.build_phase + j * self.build_period
        return Deployment(at, self._tag(mix(self.key ^ j)), BUILD)

    def deployments(self, t: float, limit: int) -> list[Deployment]:
        """The last `limit` revision changes at or before `t`, newest first."""
        i = bisect_right(self._deploy_times, t)
        found = list(self.deploys[max(0, i - limit) : i])
        found += [r for r in self.releases if r.at <= t][-limit:]
        if self.environment == STAGING:
            found += self._builds(t, limit)
        found.sort(key=lambda d: (d.at, d.order), reverse=True)
        return found[:limit] or list(self.releases[:1])

    def _builds(self, t: float, limit: int) -> list[Deployment]:
        """The last `limit` CI builds at or before `t`, newest first, as the target took
        them: none while it was paused, then the newest of those pushed meanwhile,
        rolled out when it was resumed."""
        taken: list[Deployment] = []
        j = math.floor((t - self.build_phase) / self.build_period)
        while len(taken) < limit:
            build = self._build(j)
            i = bisect_right(self._pause_times, build.at)
            if not (i and self.pauses[i - 1][1]):
                taken.append(build)
                j -= 1
                continue
            paused_at = self.pauses[i - 1][0]
            resumed = self.pauses[i][0] if i < len(self.pauses) else None
            if resumed is not None and resumed <= t:
                taken.append(Deployment(resumed, build.revision, BUILD))
            # The other builds of that pause were never taken: go on before it.
            j = math.ceil((paused_at - self.build_phase) / self.build_period) - 1
        return taken

    def desired_at(self, t: float) -> tuple[int, int, float]:
        """(replicas wanted at `t`, replicas wanted before that, when it last changed)."""
        if self.spec.style == CDN:
            return 1, 1, -math.inf
        i = bisect_right(self._scale_times, t)
        if i == 0:
            return self.base_replicas, self.base_replicas, -math.inf
        before = self.scales[i - 2][1] if i >= 2 else self.base_replicas
        at, n = self.scales[i - 1]
        return n, before, at

    def rollout_at(self, t: float) -> tuple[float, str, str]:
        """(when the current rollout began, what began it, the revision it rolls out)."""
        current = self.deployments(t, 1)[0]
        i = bisect_right(self.restarts, t)
        if i and self.restarts[i - 1] >= current.at:
            return self.restarts[i - 1], RESTART, current.revision
        return current.at, current.kind, current.revision

    def paused_since(self, t: float) -> float | None:
        """When the target was paused, if it is paused at `t`; else None."""
        i = bisect_right(self._pause_times, t)
        if i and self.pauses[i - 1][1]:
            return self.pauses[i - 1][0]
        return None

    def active(self, start: float, t: float) -> float:
        """Seconds from `start` to `t` that were not paused: how far a rollout got,
        since a paused rollout stands still and goes on where it stopped."""
        stood = 0.0
        since: float | None = None  # the start of the pause under way, if any
        for at, pausing in self.pauses:
            if at > t:
                break
            if pausing and since is None:
                since = at
            elif not pausing and since is not None:
                stood += max(0.0, at - max(since, start))
                since = None
        if since is not None:
            stood += max(0.0, t - max(since, start))
        return max(0.0, t - start - stood)

    # -- state -----------------------------------------------------------------

    def state(self, t: float) -> TargetState:
        """The target at `t`: a rollout outranks scaling, which outranks the incident."""
        spec = self.spec
        started, kind, revision = self.rollout_at(t)
        desired, before, scaled_at = self.desired_at(t)
        duration = rollout_seconds(spec.platform, desired)
        progress = self.active(started, t) / duration
        level = incidents.intensity(self.seed, spec.name, self.environment, t)
        if level and started >= incidents.incident_start(t):
            # A rollback, deploy or restart during the incident clears it as it rolls out.
            level *= min(1.0, max(0.0, 1.0 - progress))
        paused = self.paused_since(t)
        updated = max(started, scaled_at, paused or -math.inf)
        if progress < 1.0:
            ready = min(desired, math.floor(progress * desired))
            status = RolloutStatus.PROGRESSING
            message = self._rollout_message(kind, revision, ready, desired, progress)
        elif desired > before and t < scaled_at + (desired - before) * scale_step(spec.platform):
            ready = before + math.floor((t - scaled_at) / scale_step(spec.platform))
            status = RolloutStatus.PROGRESSING
            message = f"scaling to {desired}: {ready} of {desired} {self._unit} ready"
        elif level >= 0.5 and spec.platform != STATIC and desired > 0:
            ready = desired - 1
            status = RolloutStatus.DEGRADED
            message = self._degraded_message(desired)
        else:
            ready = desired
            status = RolloutStatus.READY
            message = ""
        if paused is not None:
            status = RolloutStatus.PAUSED
            message = f"paused{': ' + message if message else ''} (resume to go on)"
        return TargetState(
            revision=revision,
            rollout_at=started,
            desired=desired,
            ready=ready,
            status=status,
            message=message,
            updated_at=updated,
            incident=level,
            replacing=progress < 1.0,
        )

    @property
    def _unit(self) -> str:
        return "tasks" if self.spec.platform == ECS else "pods"

    def _rollout_message(
        self, kind: str, revision: str, ready: int, desired: int, progress: float
    ) -> str:
        if self.spec.platform == STATIC:
            if kind == RESTART:
                return "invalidating the CDN cache"
            return f"uploading {revision}" if progress < 0.6 else "invalidating the CDN cache"
        if kind == RESTART:
            return f"restarting: {ready} of {desired} {self._unit} replaced"
        verb = "rolling back to" if kind == ROLLBACK else "rolling out"
        return f"{verb} {revision}: {ready} of {desired} {self._unit} updated"

    def _degraded_message(self, desired: int) -> str:
        if self.spec.platform == ECS:
            return f"1 of {desired} tasks failing target group health checks"
        if self.spec.style == JOBS:
            return f"1 of {desired} pods restarting (CrashLoopBackOff)"
        return f"1 of {desired} pods failing readiness probe (HTTP 503)"
