"""An ECS service's CloudWatch logs, found through its task definition.

The awslogs driver's options in each container definition name the group, region
and stream prefix (streams are `prefix/container/task-id`), so nothing is guessed
from the service's name. Reading is `filter_log_events` (interleaved across a
group's streams, merged across groups by time); following is CloudWatch Logs live
tail (`start_live_tail`) where the endpoint offers it, else polling
`filter_log_events` at a bounded interval from the newest event seen.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from console.domain.model import LogLine, utcnow
from providers.aws.connection import Aws, error_code
from providers.base import AuthError, NotFound, Unsupported
from providers.reads import together

DEFAULT_SINCE = timedelta(hours=1)
MAX_SEEN = 10_000  # event ids remembered to drop repeats between polls
# Codes that mean "this endpoint has no live tail" rather than "something broke".
NO_LIVE_TAIL = frozenset(
    {
        "UnknownOperationException",
        "InvalidAction",
        "NotImplemented",
        "AccessDeniedException",
        "InvalidOperationException",
        "UnsupportedOperation",
        "404",
    }  # fmt: skip
)


@dataclass(frozen=True)
class LogSource:
    """One container's awslogs destination."""

    container: str
    group: str
    prefix: str  # `stream-prefix/container/`, or "" when the driver sets no prefix

    def label(self, stream: str) -> str:
        """`container/task-id` from a stream name (the task id is its last part)."""
        return f"{self.container}/{stream.rpartition('/')[2]}"


def sources(task_definition: Mapping[str, Any], container: str | None = None) -> list[LogSource]:
    """The awslogs destinations of a task definition's containers (or of one container)."""
    found = []
    for definition in task_definition.get("containerDefinitions") or ():
        name = str(definition.get("name") or "")
        if container and name != container:
            continue
        config = definition.get("logConfiguration") or {}
        options = config.get("options") or {}
        if config.get("logDriver") != "awslogs" or not options.get("awslogs-group"):
            continue
        prefix = options.get("awslogs-stream-prefix")
        found.append(
            LogSource(
                container=name,
                group=str(options["awslogs-group"]),
                prefix=f"{prefix}/{name}/" if prefix else "",
            )
        )
    return found


def _line(source: LogSource, event: Mapping[str, Any]) -> LogLine:
    ts = datetime.fromtimestamp(int(event.get("timestamp") or 0) / 1000, UTC)
    message = str(event.get("message") or "").rstrip("\n")
    return LogLine(ts=ts, text=message, source=source.label(str(event.get("logStreamName") or "")))


class LogReader:
    """Reads and follows the logs of one service's containers."""

    def __init__(self, aws: Aws, poll_interval: float) -> None:
        self.aws = aws
        self.poll_interval = poll_interval
        self.live_tail = True  # until the endpoint says it has none

    async def _page(
        self, source: LogSource, start_ms: int, pattern: str | None, token: str | None
    ) -> dict[str, Any]:
        logs = self.aws.client("logs")
        kwargs: dict[str, Any] = {"logGroupName": source.group, "startTime": start_ms}
        if source.prefix:
            kwargs["logStreamNamePrefix"] = source.prefix
        if pattern:
            kwargs["filterPattern"] = pattern
        if token:
            kwargs["nextToken"] = token
        return await self.aws.call(f"logs of {source.group}", logs.filter_log_events, **kwargs)

    async def _since(
        self, source: LogSource, start_ms: int, pattern: str | None, seen: deque[str] | None
    ) -> list[LogLine]:
        """Every event of `source` from `start_ms`, oldest first, skipping ids in `seen`."""
        lines: list[LogLine] = []
        token: str | None = None
        known = set(seen or ())
        while True:
            page = await self._page(source, start_ms, pattern, token)
            for event in page.get("events") or ():
                if not str(event.get("logStreamName") or "").startswith(source.prefix):
                    continue  # the prefix is asked for; endpoints that ignore it are held to it
                ident = str(event.get("eventId") or "")
                if seen is not None:
                    if ident in known:
                        continue
                    known.add(ident)
                    seen.append(ident)
                lines.append(_line(source, event))
            token = page.get("nextToken")
            if not token:
                lines.sort(key=lambda line: line.ts)  # stable: a stream's order is kept
                return lines

    async def read(
        self,
        found: list[LogSource],
        *,
        follow: bool,
        since: timedelta | None,
        tail: int | None,
        pattern: str | None,
    ) -> AsyncIterator[LogLine]:
        if not found:
            raise NotFound("no container of the task definition logs to CloudWatch (awslogs)")
        start = utcnow() - (since or DEFAULT_SINCE)
        start_ms = int(start.timestamp() * 1000)
        seen: dict[LogSource, deque[str]] = {s: deque(maxlen=MAX_SEEN) for s in found}
        batches = await together(*(self._since(s, start_ms, pattern, seen[s]) for s in found))
        merged = list(heapq.merge(*batches, key=lambda line: line.ts))
        if tail is not None:
            merged = merged[-tail:] if tail else []
        newest = max((line.ts for line in merged), default=start)
        # Lines a live session gave at its newest millisecond: live tail events carry
        # no event id, and the polls after a session start from that millisecond.
        live: set[tuple[datetime, str, str]] = set()
        for line in merged:
            yield line
        if not follow:
            return
        if self.live_tail:
            floor = newest
            try:
                async for line in self._live(found, pattern):
                    # A session may open with events already read (some emulators
                    # replay the group): only what is newer than the read goes on.
                    if line.ts > floor:
                        if line.ts > newest:
                            newest, live = line.ts, set()
                        live.add((line.ts, line.source, line.text))
                        yield line
            except Unsupported:
                self.live_tail = False
        async for line in self._poll(found, newest, pattern, seen, live):
            yield line

    async def _poll(
        self,
        found: list[LogSource],
        newest: datetime,
        pattern: str | None,
        seen: dict[LogSource, deque[str]],
        live: set[tuple[datetime, str, str]],
    ) -> AsyncIterator[LogLine]:
        """New events every `poll_interval`, from the newest timestamp seen (inclusive,
        so events of the same millisecond are not lost; repeats are dropped by id)."""
        mark = int(newest.timestamp() * 1000)
        while True:
            await asyncio.sleep(self.poll_interval)
            batches = await together(*(self._since(s, mark, pattern, seen[s]) for s in found))
            for line in heapq.merge(*batches, key=lambda line: line.ts):
                if (line.ts, line.source, line.text) in live:
                    continue
                mark = max(mark, int(line.ts.timestamp() * 1000))
                yield line

    async def _live(self, found: list[LogSource], pattern: str | None) -> AsyncIterator[LogLine]:
        """Live tail sessions, one per log group (the API takes stream prefixes only for
        a single group); raises Unsupported when the endpoint has no live tail."""
        queue: asyncio.Queue[LogLine | BaseException] = asyncio.Queue(maxsize=10_000)
        loop = asyncio.get_running_loop()
        streams: list[Any] = []
        closed = False

        def pump(source: LogSource, arn: str) -> None:
            logs = self.aws.client("logs")
            kwargs: dict[str, Any] = {"logGroupIdentifiers": [arn]}
            if source.prefix:
                kwargs["logStreamNamePrefixes"] = [source.prefix]
            if pattern:
                kwargs["logEventFilterPattern"] = pattern
            try:
                response = logs.start_live_tail(**kwargs)
                stream = response["responseStream"]
                streams.append(stream)
                for event in stream:
                    update = event.get("sessionUpdate") or {}
                    for result in update.get("sessionResults") or ():
                        line = _line(source, result)
                        loop.call_soon_threadsafe(queue.put_nowait, line)
                loop.call_soon_threadsafe(queue.put_nowait, EOFError())
            except Exception as exc:
                if not closed:
                    loop.call_soon_threadsafe(queue.put_nowait, _live_error(exc, self.aws))

        arns = await together(*(self._group_arn(s.group) for s in found))
        for source, arn in zip(found, arns, strict=True):
            self.aws.thread(functools.partial(pump, source, arn), "live-tail")
        ended = 0
        try:
            while ended < len(found):
                item = await queue.get()
                if isinstance(item, EOFError):
                    ended += 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item
            # Every session ended (they last at most three hours): the caller polls on.
        finally:
            closed = True
            for stream in streams:
                stream.close()

    async def _group_arn(self, group: str) -> str:
        """The group's ARN without the `:*` describe_log_groups appends (live tail wants it so)."""
        logs = self.aws.client("logs")
        page = await self.aws.call(
            f"log group {group}", logs.describe_log_groups, logGroupNamePrefix=group
        )
        for found in page.get("logGroups") or ():
            if found.get("logGroupName") == group and found.get("arn"):
                return str(found["arn"]).removesuffix(":*")
        raise NotFound(f"log group {group} (named in the task definition) does not exist")


def _live_error(exc: BaseException, aws: Aws) -> BaseException:
    """Credentials problems are reported; any other failure of live tail (an endpoint
    without it, a stream it cannot frame) falls back to polling."""
    translated = aws.translate(exc, "live tail")
    if isinstance(translated, AuthError) and error_code(exc) not in NO_LIVE_TAIL:
        return translated
    return Unsupported(f"no live tail: {error_code(exc) or type(exc).__name__}")
