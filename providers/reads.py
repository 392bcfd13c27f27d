"""Reads a provider makes at once: ended together, or started slowest first.

`asyncio.gather` lets the other reads run on when one fails: the refresh has already
reported the failure, yet they keep spending the backend's rate limit and hold
connections of a client that is about to be closed. Here the first failure cancels the
rest and is raised as itself, so callers keep catching the provider's own errors.

A refresh cycle's requests are all prepared before the first of them is written (each
one yields to the others on its way to a connection), then written in the order they
were started. Started in config order, the slowest repository's request waits behind
the preparation and sending of every other one, and the cycle lasts that much longer
than its slowest answer; `SlowestFirst` starts the reads that took longest last time
first, so the longest wait begins first and the rest is done while it runs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


async def together(*reads: Coroutine[Any, Any, T]) -> list[T]:
    """Every read's result in order, or the first failure with the others cancelled."""
    failure: BaseException | None = None
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(read) for read in reads]
    except BaseExceptionGroup as failed:
        failure = failed
        while isinstance(failure, BaseExceptionGroup):
            failure = failure.exceptions[0]
    if failure is not None:
        raise failure
    return [task.result() for task in tasks]


class SlowestFirst:
    """Starts a cycle's reads in the order of what each took the cycle before, longest
    first (reads not seen yet keep their place, after those that were)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.took: dict[str, float] = {}

    async def gather(
        self, reads: Sequence[tuple[str, Coroutine[Any, Any, T]]]
    ) -> list[T | BaseException]:
        """Every read's result or error, in the order of `reads` (keyed by a name)."""
        order = sorted(range(len(reads)), key=lambda i: -self.took.get(reads[i][0], -1.0))
        done = await asyncio.gather(
            *(self._timed(*reads[i]) for i in order), return_exceptions=True
        )
        found: list[T | BaseException] = list(done)
        for place, result in zip(order, done, strict=True):
            found[place] = result
        return found

    async def _timed(self, key: str, read: Coroutine[Any, Any, T]) -> T:
        start = self.clock()
        try:
            return await read
        finally:
            self.took[key] = self.clock() - start
