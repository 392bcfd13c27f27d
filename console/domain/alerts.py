"""Alerts a monitoring backend (Alertmanager) says are firing, and which service each names.

Kept apart from the targets: an alert is about a service and maybe an environment,
whoever runs it, so one alert lands on every row of that service (in that environment
when it names one). Severity is the backend's `severity` label; the order below
decides which alerts the strip names first. Everything here came from a server and
is shown inert.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

# Most severe first; a severity the team invented sorts after these, by name.
SEVERITIES = ("critical", "error", "warning", "info")


@dataclass(frozen=True)
class Alert:
    """One active alert as its backend reports it now."""

    provider: str  # the configured Alertmanager block it came from
    fingerprint: str  # the backend's id of the alert; what a silence is made from
    name: str  # the `alertname` label
    severity: str = ""
    summary: str = ""  # the `summary` (or `description`) annotation
    service: str | None = None
    environment: str | None = None
    state: str = "active"  # active | suppressed | unprocessed
    silenced_by: tuple[str, ...] = ()
    starts_at: datetime | None = None
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def id(self) -> str:
        """`PROVIDER:FINGERPRINT`, as `quorum alerts` lists it and `silence` takes it."""
        return f"{self.provider}:{self.fingerprint}"

    @property
    def silenced(self) -> bool:
        return bool(self.silenced_by)

    def names(self, service: str, environment: str) -> bool:
        """Whether this alert is about `service` in `environment` (any, when it names none)."""
        return self.service == service and self.environment in (None, environment)


def rank(severity: str) -> tuple[int, str]:
    """Sort key: known severities in SEVERITIES order, then others by name."""
    word = severity.lower()
    return (SEVERITIES.index(word), "") if word in SEVERITIES else (len(SEVERITIES), word)


def by_severity(alerts: Iterable[Alert]) -> list[Alert]:
    """Most severe first; within one severity, the longest firing first."""
    return sorted(
        alerts,
        key=lambda a: (rank(a.severity), a.starts_at is None, a.starts_at or datetime.min, a.name),
    )


def firing(alerts: Iterable[Alert]) -> list[Alert]:
    """The alerts that need a person: neither silenced nor inhibited, most severe first."""
    return by_severity(a for a in alerts if a.state == "active" and not a.silenced)


def alerts_on(alerts: Iterable[Alert], service: str, environment: str) -> list[Alert]:
    """The firing alerts about one row's service and environment, most severe first."""
    return [a for a in firing(alerts) if a.names(service, environment)]


def is_critical(alert: Alert) -> bool:
    """Whether the alert makes its service's health critical (else a warning)."""
    return rank(alert.severity)[0] <= SEVERITIES.index("error")
