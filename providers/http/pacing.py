"""Slows a provider's refresh cycles down before its rate limit runs out.

The hub polls every provider on one interval; a provider that answers from its
last snapshot until `Pacer.due()` spends no requests in between. The pause is
what the remaining budget allows until the reset at the last cycle's cost, so a
console left open all day settles at the pace the limit can carry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from console.domain.model import utcnow
from providers.http.client import HttpClient


class Pacer:
    def __init__(self, client: HttpClient, clock: Callable[[], datetime] = utcnow) -> None:
        self.client = client
        self.clock = clock
        self.next_at: datetime | None = None
        self._charged_at_start = 0

    def due(self) -> bool:
        """Whether a cycle may spend requests now."""
        return self.next_at is None or self.clock() >= self.next_at

    def start(self) -> None:
        self._charged_at_start = self.client.stats.charged

    def finish(self) -> None:
        """Sets when the next cycle may run, from this cycle's cost and what is left."""
        rate = self.client.rate
        cost = self.client.stats.charged - self._charged_at_start
        now = self.clock()
        pause = rate.pace(now, cost) if rate is not None else timedelta(0)
        self.next_at = now + pause if pause > timedelta(0) else None

    @property
    def slowed(self) -> bool:
        return self.next_at is not None and self.clock() < self.next_at

    def describe(self) -> str:
        """The rate-limit line of the details pane: what is left, and any slowing."""
        rate = self.client.rate
        if rate is None:
            return ""
        now = self.clock()
        line = rate.describe(now)
        if self.slowed and self.next_at is not None:
            wait = int((self.next_at - now).total_seconds())
            line += f"; polling slowed, next refresh in {wait}s"
        return line
