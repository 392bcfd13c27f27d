"""Reads made at once end together: one failure cancels the reads still running and is
raised as the provider's own error, so nothing runs on after a refresh has failed."""

from __future__ import annotations

import asyncio

import pytest

from providers.base import ProviderError
from providers.reads import together


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
