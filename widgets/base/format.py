"""How every pane writes the same things: ages, countdowns and the styles of states.

One module, so an age reads `3h` and a failed rollout is red in Services, Approvals,
the describe screen and the provider line alike.
"""

from __future__ import annotations

from datetime import datetime

from console.domain.model import Health, RolloutStatus

HEALTH_STYLES = {
    Health.OK: "green",
    Health.WARNING: "bold yellow",
    Health.CRITICAL: "bold white on red",
    Health.UNKNOWN: "dim",
}
# Chart points and the metrics pane's latest values: plain colours, no background.
LEVEL_STYLES = {
    Health.OK: "green",
    Health.WARNING: "yellow",
    Health.CRITICAL: "red",
    Health.UNKNOWN: "dim",
}
STATUS_STYLES = {
    RolloutStatus.READY: "green",
    RolloutStatus.PROGRESSING: "cyan",
    RolloutStatus.DEGRADED: "yellow",
    RolloutStatus.FAILED: "bold red",
    RolloutStatus.PAUSED: "magenta",
    RolloutStatus.UNKNOWN: "dim",
}
# A proposal's state, and a provider approval's ("pending").
STATE_STYLES = {
    "open": "cyan",
    "approved": "green",
    "executed": "green",
    "blocked": "bold red",
    "failed": "bold red",
    "expired": "dim",
    "withdrawn": "dim",
    "legacy": "dim",
    "pending": "yellow",
}
OUTCOME_STYLES = {"failed": "bold red", "finished": "green", "started": "cyan"}


def age(now: datetime, then: datetime | None) -> str:
    """k9s-style compact age: 45s, 12m, 3h, 5d."""
    if then is None:
        return "-"
    seconds = max(int((now - then).total_seconds()), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def countdown(now: datetime, then: datetime) -> str:
    """`then - now` as `3d 04h`, `4h 05m`, `12m 30s`; `now` once passed."""
    seconds = int((then - now).total_seconds())
    if seconds <= 0:
        return "now"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"
