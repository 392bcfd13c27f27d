"""Follows a log that a backend only serves whole (a CI job's log), by polling it.

Each poll fetches the text again and yields only the lines past those already
seen; the pause between polls starts short and grows to a bound, and the loop
ends once the job is done and its final text was read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from providers.base import NotFound

FIRST_PAUSE = 2.0
MAX_PAUSE = 15.0


async def follow_text(
    fetch: Callable[[], Awaitable[str]],
    finished: Callable[[], Awaitable[bool]],
    *,
    first_pause: float = FIRST_PAUSE,
    max_pause: float = MAX_PAUSE,
    seen: int = 0,
) -> AsyncIterator[str]:
    """New lines of `fetch()` until `finished()`; `seen` lines were already shown."""
    pause = first_pause
    while True:
        done = await finished()
        try:
            text = await fetch()
        except NotFound:  # a job that has not started writing its log yet
            text = ""
        lines = text.splitlines()
        for line in lines[seen:]:
            yield line
        seen = max(seen, len(lines))
        if done:
            return
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, max_pause)
