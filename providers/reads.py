"""Reads a provider makes at once, ended together.

`asyncio.gather` lets the other reads run on when one fails: the refresh has already
reported the failure, yet they keep spending the backend's rate limit and hold
connections of a client that is about to be closed. Here the first failure cancels the
rest and is raised as itself, so callers keep catching the provider's own errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
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
