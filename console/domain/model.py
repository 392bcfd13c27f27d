"""The domain model every layer speaks: providers produce it, the hub keeps it,
widgets and the command line render it.

Plain frozen dataclasses, so a snapshot can be compared with the previous one and
only what changed reaches the screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from console.domain.alerts import Alert


def utcnow() -> datetime:
    """One clock for the whole program, always timezone-aware UTC."""
    return datetime.now(UTC)


class RolloutStatus(StrEnum):
    """Where a target's rollout stands, reduced to what an operator acts on."""

    READY = "ready"
    PROGRESSING = "progressing"
    DEGRADED = "degraded"
    FAILED = "failed"
    PAUSED = "paused"
    UNKNOWN = "unknown"


class Health(StrEnum):
    """A target's health against the alert thresholds (worst metric wins)."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"


# Metric names shared by providers, thresholds and widgets.
CPU = "cpu"  # percent of the limit/request
MEMORY = "memory"  # percent
DISK = "disk"  # percent
ERROR_RATE = "error_rate"  # percent of requests
P99 = "p99"  # milliseconds

METRIC_LABELS: dict[str, str] = {
    CPU: "CPU %",
    MEMORY: "memory %",
    DISK: "disk %",
    ERROR_RATE: "errors %",
    P99: "p99 ms",
}


@dataclass(frozen=True, order=True, slots=True)
class TargetRef:
    """Names one (service, environment) as served by one provider.

    `target` is the provider's own name for the thing (``deployment/web``,
    an ECS service ARN, a site id); the key is what the UI and the audit log use.
    """

    provider: str
    service: str
    environment: str
    target: str = ""

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.service}/{self.environment}"

    def __str__(self) -> str:
        return f"{self.service}@{self.environment} ({self.provider})"


@dataclass(frozen=True)
class Alarm:
    """A backend's own alarm about a target (a CloudWatch alarm), as it stands now.

    `state` is the backend's word: ALARM counts as critical health, anything else
    (INSUFFICIENT_DATA) as a warning, whatever the metrics say.
    """

    name: str
    state: str
    reason: str = ""

    @property
    def firing(self) -> bool:
        return self.state == "ALARM"


@dataclass(frozen=True)
class Route:
    """One origin behind a front (a load balancer), as the front sees it now.

    `host` is the origin's address; a platform target that answers at that host (see
    `Target.hosts`) is the origin, which is how console.domain.sites merges the
    platforms behind one front into one site row.
    """

    host: str
    pool: str = ""
    enabled: bool = True
    healthy: bool | None = None  # None: not checked
    serving: bool = False  # takes the traffic now


@dataclass(frozen=True)
class Canary:
    """A second revision taking part of a target's traffic, as its provider reports it.

    `error_rate` is the canary's own (percent of its requests), `share` the percent of
    the target's traffic it takes; None where the provider cannot tell.
    """

    revision: str
    error_rate: float | None = None
    share: float | None = None
    requests: float | None = None  # requests a second the canary answers


@dataclass(frozen=True)
class Target:
    """One deployed thing as a provider last saw it."""

    ref: TargetRef
    revision: str
    status: RolloutStatus
    ready: int = 0
    desired: int = 0
    updated_at: datetime | None = None
    message: str = ""
    # Latest value of each metric the provider knows (names above).
    metrics: dict[str, float] = field(default_factory=dict, compare=True, hash=False)
    # The backend's own alarms on this target that need a person (see Alarm).
    alarms: tuple[Alarm, ...] = ()
    # The hosts a site platform answers at (a front's origins name them), lower case.
    hosts: tuple[str, ...] = ()
    # A front's origins and which of them serve now (a load balancer's pools).
    routes: tuple[Route, ...] = ()
    # A second revision taking part of the traffic, while one does.
    canary: Canary | None = None


@dataclass(frozen=True)
class Snapshot:
    """Everything one provider reported in one refresh."""

    provider: str
    targets: tuple[Target, ...]
    taken_at: datetime
    # What this snapshot leaves out and why, one line each (kinds the credentials may
    # not list): shown once beside the targets, never as a failure of the provider.
    notes: tuple[str, ...] = ()
    # Active alerts, from a kind that watches alerts (Alertmanager); each names a service.
    alerts: tuple[Alert, ...] = ()


@dataclass(frozen=True)
class LogLine:
    """One line of a target's log; `text` is raw backend text, made inert on display."""

    ts: datetime
    text: str
    level: str = ""
    source: str = ""  # pod, task or container the line came from


@dataclass(frozen=True)
class PodInfo:
    """One pod (or task) behind a target, as the details pane lists it."""

    name: str
    phase: str
    ready: bool = False
    restarts: int = 0
    reason: str = ""  # why a container waits or died: CrashLoopBackOff, ImagePullBackOff...
    containers: tuple[str, ...] = ()
    node: str = ""
    started_at: datetime | None = None


@dataclass(frozen=True)
class EventInfo:
    """One recent event about a target (Kubernetes events, deployment history...)."""

    at: datetime | None
    type: str  # Normal | Warning
    reason: str
    message: str
    count: int = 1
    source: str = ""  # the object the event is about, e.g. pod/web-7d9f


@dataclass(frozen=True)
class TargetDetails:
    """What a provider can say about one target beyond its row: pods and events."""

    target: Target
    pods: tuple[PodInfo, ...] = ()
    events: tuple[EventInfo, ...] = ()


@dataclass(frozen=True)
class Series:
    """A named time series for one target, oldest point first."""

    name: str
    points: tuple[tuple[datetime, float], ...]

    @property
    def latest(self) -> float | None:
        return self.points[-1][1] if self.points else None


@dataclass(frozen=True)
class Revision:
    """A version a target can be moved to."""

    id: str
    created_at: datetime | None = None
    description: str = ""
    current: bool = False


@dataclass(frozen=True)
class ProviderApproval:
    """Something a backend itself holds for a human (a GitHub pending deployment...).

    `id` is what `quorum vote` takes: the provider's name, a colon, and the
    provider's own reference (`ci:4242/production`, `gitlab:57`).
    """

    provider: str
    id: str
    title: str
    environment: str
    url: str = ""
    requested_at: datetime | None = None
    service: str = ""
    requested_by: str = ""
    detail: str = ""  # wait timer, reviewers, whether these credentials may answer


@dataclass(frozen=True)
class RotationSlot:
    """Who holds one rotation now, who is next, and when the handoff is."""

    rotation: str
    holder: str  # "" in a gap
    next_holder: str  # "" when the next stretch is a gap
    handoff_at: datetime
    gap: bool = False  # nobody holds it now (restrictions, before its start...)
    override: bool = False  # the holder is there by an override
    swap: bool = False  # the holder took this stretch in a swap
    since: datetime | None = None  # when the current holder took over
