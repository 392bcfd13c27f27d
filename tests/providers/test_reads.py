"""Reads made at once end together: one failure cancels the reads still running and is
raised as the provider's own error, so nothing runs on after a refresh has failed."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from providers.base import ProviderError
from providers.reads import SlowestFirst, together


async def test_results_keep_the_order_of_the_reads() -> None:
    async def after(delay: float, value: str) -> str:
        await asyncio.sleep(delay)
        return value

    assert await together(after(0.02, "a"), after(0, "b"), after(0.01, "c")) == ["a", "b", "c"]


async def test_a_failure_cancels_the_reads_still_running_and_is_raised_as_itself() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow() -> str:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    async def failing() -> str:
        await started.wait()
        raise ProviderError("bad response: /pools (500)")

    with pytest.raises(ProviderError, match="bad response: /pools"):
        await together(slow(), failing())
    assert cancelled.is_set()


async def test_a_caller_cancelled_cancels_every_read() -> None:
    cancelled: list[int] = []

    async def waiting(n: int) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(n)
            raise

    outer = asyncio.create_task(together(waiting(1), waiting(2)))
    await asyncio.sleep(0.01)
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    assert sorted(cancelled) == [1, 2]


async def test_a_cycle_starts_the_reads_that_took_longest_last_time_first() -> None:
    """The clock is the test's: each read moves it on by what it takes (and runs to its
    end at once, so no read's time counts in another's)."""
    now = 0.0
    started: list[str] = []

    async def read(name: str, takes: float, fails: bool = False) -> str:
        nonlocal now
        started.append(name)
        now += takes
        if fails:
            raise ProviderError(f"{name}: 500")
        return name

    order = SlowestFirst(clock=lambda: now)
    takes = {"quick": 1.0, "slow": 30.0, "middling": 5.0, "failing": 10.0}

    def cycle(*names: str) -> list[tuple[str, Coroutine[Any, Any, str]]]:
        return [(n, read(n, takes.get(n, 0.0), fails=n == "failing")) for n in names]

    first = await order.gather(cycle("quick", "slow", "middling", "failing"))
    assert first[:3] == ["quick", "slow", "middling"] and isinstance(first[3], ProviderError)
    assert started == ["quick", "slow", "middling", "failing"]
    started.clear()
    second = await order.gather(cycle("quick", "new", "slow", "middling", "failing"))
    assert started == ["slow", "failing", "middling", "quick", "new"]
    assert second[:4] == ["quick", "new", "slow", "middling"]
