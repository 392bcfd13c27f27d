"""Logs of one pod or of every pod of a target, merged in time order.

Each pod (and container) is read by its own thread with `timestamps=true`, so
every line carries the kubelet's timestamp and lines of several pods can be
interleaved by time. Without follow, the pods' lines are merged and the last
`tail` kept. With follow, lines go through one bounded buffer: if the reader
falls behind a chatty pod, the oldest lines are dropped (and counted) rather than
memory growing or the newest line lagging further and further behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from console.domain.model import LogLine
from providers.kubernetes.client import interrupt, translate
from providers.kubernetes.objects import parse_time

MAX_LINES = 10_000  # lines held between the readers and a slow consumer
SETTLE = 0.3  # seconds to let every pod's backlog arrive before the first merge


@dataclass(frozen=True)
class Source:
    pod: str
    container: str | None
    label: str  # the LogLine.source: "pod" or "pod/container"


def parse_line(raw: bytes, source: str) -> LogLine:
    """`2026-11-24T11:00:00.123456789Z text` as a LogLine (the text stays raw)."""
    text = raw.decode("utf-8", "replace").rstrip("\r")
    stamp, _, rest = text.partition(" ")
    moment = parse_time(stamp) if stamp[:1].isdigit() else None
    if moment is None:
        return LogLine(ts=datetime.now(UTC), text=text, source=source)
    return LogLine(ts=moment, text=rest, source=source)


class _Pipe:
    """The bounded hand-over from reader threads to the async consumer."""

    def __init__(self, loop: asyncio.AbstractEventLoop, cap: int, readers: int) -> None:
        self.loop = loop
        self.lines: deque[LogLine] = deque(maxlen=cap)
        self.lock = threading.Lock()
        self.dropped = 0
        self.open_readers = readers
        self.started: set[str] = set()
        self.errors: list[BaseException] = []
        self.event = asyncio.Event()
        self._pending = False

    def put(self, batch: list[LogLine]) -> None:
        with self.lock:
            overflow = len(self.lines) + len(batch) - (self.lines.maxlen or 0)
            if overflow > 0:
                self.dropped += overflow
            self.lines.extend(batch)
            wake = not self._pending
            self._pending = True
        if wake:
            self._wake()

    def finish(self, source: str, error: BaseException | None) -> None:
        with self.lock:
            self.open_readers -= 1
            self.started.add(source)
            if error is not None:
                self.errors.append(error)
        self._wake()

    def mark_started(self, source: str) -> None:
        with self.lock:
            self.started.add(source)

    def take(self) -> tuple[list[LogLine], int]:
        with self.lock:
            lines = list(self.lines)
            self.lines.clear()
            dropped, self.dropped = self.dropped, 0
            self._pending = False
            self.event.clear()
        return lines, dropped

    def _wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # the consumer's loop is gone
            self.loop.call_soon_threadsafe(self.event.set)


def _read(
    core: Any,
    namespace: str,
    source: Source,
    pipe: _Pipe,
    stop: threading.Event,
    holder: list[Any],
    options: dict[str, Any],
) -> None:
    error: BaseException | None = None
    try:
        response = core.read_namespaced_pod_log(
            source.pod,
            namespace,
            container=source.container,
            timestamps=True,
            _preload_content=False,
            **options,
        )
        holder.append(response)
        buffer = b""
        try:
            for chunk in response.stream(amt=None, decode_content=False):
                if stop.is_set():
                    break
                pipe.mark_started(source.label)
                parts = (buffer + chunk).split(b"\n")
                buffer = parts.pop()
                pipe.put([parse_line(p, source.label) for p in parts])
            if buffer and not stop.is_set():
                pipe.put([parse_line(buffer, source.label)])
        finally:
            response.release_conn()
    except BaseException as exc:  # reported through the pipe, raised by the consumer
        if not stop.is_set():
            error = translate(exc, f"logs of pod {source.pod}")
    pipe.finish(source.label, error)


async def stream(
    api: Any,
    namespace: str,
    sources: list[Source],
    *,
    follow: bool,
    since: timedelta | None,
    tail: int | None,
    previous: bool,
    max_lines: int = MAX_LINES,
) -> AsyncIterator[LogLine]:
    """Lines of every source, oldest first; with follow, until the consumer stops."""
    from kubernetes import client

    core = client.CoreV1Api(api)
    options: dict[str, Any] = {"follow": follow, "previous": previous}
    if since is not None:
        options["since_seconds"] = max(1, int(since.total_seconds()))
    if tail is not None:
        options["tail_lines"] = tail
    loop = asyncio.get_running_loop()
    pipe = _Pipe(loop, max_lines if follow else 2**31, len(sources))
    stop = threading.Event()
    responses: list[Any] = []
    threads = [
        threading.Thread(
            target=_read,
            args=(core, namespace, src, pipe, stop, responses, options),
            name=f"logs {src.label}",
            daemon=True,
        )
        for src in sources
    ]
    for thread in threads:
        thread.start()
    try:
        if not follow:
            async for line in _merged(pipe, tail):
                yield line
            return
        async for line in _followed(pipe, len(sources)):
            yield line
    finally:
        stop.set()
        for response in list(responses):
            interrupt(response)


async def _merged(pipe: _Pipe, tail: int | None) -> AsyncIterator[LogLine]:
    per_source: dict[str, list[LogLine]] = {}
    while True:
        await pipe.event.wait()
        lines, _ = pipe.take()
        for line in lines:
            per_source.setdefault(line.source, []).append(line)
        if pipe.open_readers <= 0:
            lines, _ = pipe.take()
            for line in lines:
                per_source.setdefault(line.source, []).append(line)
            break
    if pipe.errors and not per_source:
        raise pipe.errors[0]
    merged = list(heapq.merge(*per_source.values(), key=lambda line: line.ts))
    for line in merged[-tail:] if tail else merged:
        yield line


async def _followed(pipe: _Pipe, sources: int) -> AsyncIterator[LogLine]:
    # Let each pod's backlog arrive so the first batch is merged across pods.
    deadline = asyncio.get_running_loop().time() + SETTLE
    while len(pipe.started) < sources and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    while True:
        await pipe.event.wait()
        lines, dropped = pipe.take()
        if dropped:
            yield LogLine(
                ts=lines[0].ts if lines else datetime.now(UTC),
                text=f"… {dropped} lines dropped: the reader fell behind",
                source="quorum",
            )
        lines.sort(key=lambda line: line.ts)
        for line in lines:
            yield line
        if pipe.open_readers <= 0 and not pipe.lines:
            if pipe.errors:
                raise pipe.errors[0]
            return
