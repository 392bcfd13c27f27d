"""The rate limit an API reports in its headers, and the pace it allows.

GitHub sends `X-RateLimit-Limit/Remaining/Reset` (reset in epoch seconds), GitLab
`RateLimit-Limit/Remaining/Reset`; both are read. `pace` turns what is left into
the shortest pause between two refresh cycles that still lasts until the reset,
so polling slows down before the budget runs out instead of running into 403s:
not at all while more than half the limit is left, then evenly until the reset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_PREFIXES = ("x-ratelimit-", "ratelimit-")
# Share of the limit kept back for people's own actions (a vote, a dispatch) when polling.
RESERVE = 0.05
# Polling runs at the console's pace while more than this share of the limit is left,
# then spreads what is left evenly until the reset.
SLOW_BELOW = 0.5


@dataclass(frozen=True)
class RateLimit:
    limit: int
    remaining: int
    reset_at: datetime

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimit | None:
        lowered = {k.lower(): v for k, v in headers.items()}
        for prefix in _PREFIXES:
            try:
                limit = int(lowered[prefix + "limit"])
                remaining = int(lowered[prefix + "remaining"])
                reset = datetime.fromtimestamp(int(lowered[prefix + "reset"]), UTC)
            except (KeyError, ValueError, OverflowError, OSError):
                continue
            return cls(limit, remaining, reset)
        return None

    @property
    def exhausted(self) -> bool:
        return self.remaining <= 0

    def describe(self, now: datetime) -> str:
        """One line for the details pane and the status line."""
        left = max(0, int((self.reset_at - now).total_seconds()))
        reset = f"{left // 60}m{left % 60:02d}s"
        return f"rate limit: {self.remaining} of {self.limit} left, resets in {reset}"

    def pace(self, now: datetime, cost_per_cycle: int) -> timedelta:
        """The shortest pause between cycles costing `cost_per_cycle` that lasts to the reset."""
        until_reset = max(timedelta(0), self.reset_at - now)
        spendable = self.remaining - int(self.limit * RESERVE)
        if cost_per_cycle <= 0 or self.remaining > self.limit * SLOW_BELOW:
            return timedelta(0)
        if spendable < cost_per_cycle:
            return until_reset
        return until_reset / (spendable // cost_per_cycle)
