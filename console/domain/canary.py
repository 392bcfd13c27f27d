"""The canary verdict: what to do with a second revision taking part of the traffic.

The team's rule, from its process documents: the canary's error rate under 1 % →
promote it, over 5 % → roll it back, in between → wait and watch. The two bounds are
the service's error-rate thresholds (warning and critical, 1 and 5 by default), so a
service with its own thresholds is judged by them here too. Pure: the console shows
the verdict with the numbers behind it and acts on it through the actions path.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from console.domain.model import ERROR_RATE, Canary
from console.domain.thresholds import Thresholds


class Verdict(StrEnum):
    PROMOTE = "promote"
    ROLLBACK = "roll back"
    WAIT = "wait"


@dataclass(frozen=True)
class CanaryVerdict:
    canary: Canary
    verdict: Verdict
    why: str  # the numbers behind it, in one line

    def line(self) -> str:
        """`canary v2.9.0 (12% of traffic): errors 0.4% < 1% → promote`."""
        share = f" ({self.canary.share:g}% of traffic)" if self.canary.share is not None else ""
        return f"canary {self.canary.revision}{share}: {self.why} → {self.verdict}"


def judge(canary: Canary, thresholds: Thresholds) -> CanaryVerdict:
    """The verdict on `canary` by the service's error-rate bounds; without an error
    rate (no requests reached it yet) the verdict is to wait."""
    low, high = thresholds.levels.get(ERROR_RATE, (1.0, 5.0))
    rate = canary.error_rate
    if rate is None:
        return CanaryVerdict(canary, Verdict.WAIT, "no error rate yet")
    if rate < low:
        return CanaryVerdict(canary, Verdict.PROMOTE, f"errors {rate:g}% < {low:g}%")
    if rate > high:
        return CanaryVerdict(canary, Verdict.ROLLBACK, f"errors {rate:g}% > {high:g}%")
    return CanaryVerdict(canary, Verdict.WAIT, f"errors {rate:g}% between {low:g}% and {high:g}%")
