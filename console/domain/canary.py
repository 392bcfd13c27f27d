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


@dataclass(frozen=True)
class Step:
    """The change a verdict asks of the target that runs the service: a deploy of the
    canary's revision (promote) or a rollback to the stable revision."""

    kind: str  # "deploy" | "rollback"
    revision: str


def step_for(judged: CanaryVerdict, runs: str, stable: str) -> Step | str:
    """What acting on `judged` does to a target that runs revision `runs` while the
    rest of the traffic is on `stable`; a line saying why nothing is done otherwise.

    Promote deploys the canary's revision there (the environment's policy decides
    whether that needs votes). Roll back is a rollback only where that target itself
    runs the canary's revision, back to `stable`; a canary running beside it has to
    be stopped where it runs, and the line says so."""
    canary = judged.canary.revision
    if judged.verdict is Verdict.WAIT:
        return f"{judged.line()}: nothing to do yet"
    if judged.verdict is Verdict.PROMOTE:
        if runs == canary:
            return f"it already runs {canary}: nothing to promote"
        return Step("deploy", canary)
    if runs != canary:
        return (
            f"it runs {runs or 'another revision'}, not the canary's {canary}: stop the "
            "canary where it runs"
        )
    return Step("rollback", stable if stable and stable != canary else "")
