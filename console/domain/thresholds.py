"""Alert thresholds: the team's defaults, overridable per service.

A value strictly above `warning` is a warning and strictly above `critical` is
critical, as the team's process documents word it ("> 70 %").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from console.domain.model import CPU, DISK, ERROR_RATE, MEMORY, P99, Alarm, Health

DEFAULT_LEVELS: dict[str, tuple[float, float]] = {
    CPU: (70.0, 90.0),
    MEMORY: (80.0, 95.0),
    DISK: (70.0, 85.0),
    ERROR_RATE: (1.0, 5.0),
    P99: (500.0, 1000.0),
}


@dataclass(frozen=True)
class Thresholds:
    """(warning, critical) per metric name."""

    levels: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(DEFAULT_LEVELS))

    def merged(self, overrides: Mapping[str, tuple[float, float]]) -> Thresholds:
        return Thresholds({**self.levels, **overrides})

    def classify(self, metric: str, value: float | None) -> Health:
        if value is None or metric not in self.levels:
            return Health.UNKNOWN
        warning, critical = self.levels[metric]
        if value > critical:
            return Health.CRITICAL
        if value > warning:
            return Health.WARNING
        return Health.OK

    def health(self, metrics: Mapping[str, float], alarms: Sequence[Alarm] = ()) -> Health:
        """The worst health over the metrics a target reports and its backend alarms
        (a firing alarm is critical, one short of data a warning); unknown with none."""
        levels = [self.classify(name, value) for name, value in metrics.items()]
        levels += [Health.CRITICAL if a.firing else Health.WARNING for a in alarms]
        return max(levels, key=_ORDER.index, default=Health.UNKNOWN)


_ORDER = [Health.UNKNOWN, Health.OK, Health.WARNING, Health.CRITICAL]
