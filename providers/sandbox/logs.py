"""The sandbox's log lines: access lines, job lines and CDN lines at a steady rate.

Line number `i` of a target falls in the i-th slot of `1 / rate` seconds since the
epoch and its content is a pure function of (target, i) and the target's state at
that instant, so a backlog, a `--since` window and a followed stream never
disagree, in one process or several. Lines are made in chunks that share one state
lookup, and each line costs a hash and a format, so 20 000 lines a second stay
cheap. Errors rise with the incident; the lines come from the pods running then.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from console.domain.model import LogLine
from providers.sandbox.catalog import CDN, JOBS
from providers.sandbox.noise import mix
from providers.sandbox.pods import edges, replicas
from providers.sandbox.timeline import Timeline

DEBUG, INFO, WARN, ERROR = "DEBUG", "INFO", "WARN", "ERROR"
CHUNK_SECONDS = 5.0  # lines within one chunk share one state lookup

_READ_OK = (200, 200, 200, 200, 200, 304, 200, 304)
_WRITE_OK = (200, 200, 201, 201, 204, 200, 201, 202)
_CLIENT = (400, 401, 403, 404, 404, 409, 422, 429)
_SERVER = (500, 502, 503, 503, 504, 500, 502, 504)
_CACHE = ("Hit", "Hit", "Hit", "Miss", "RefreshHit", "Hit", "Hit", "Miss")
_RETRY = (
    "SMTP 451 try again later",
    "lock held by another worker",
    "rate limited by provider (429)",
    "upstream returned 503",
)
_FAIL = (
    "connection reset by peer",
    "upstream returned 503 after 5 attempts",
    "deadline exceeded after 30s",
    "database is read-only (failover in progress)",
)


class LogWriter:
    """Makes the lines of one target at `rate` lines a second."""

    def __init__(self, timeline: Timeline, rate: float) -> None:
        self.timeline = timeline
        self.rate = rate
        self.spec = timeline.spec
        self.salt = mix(timeline.key ^ 0x10C5)
        self.chunk = max(1, int(rate * CHUNK_SECONDS))
        self.deps = self.spec.depends_on or ("postgres",)

    def index_at(self, t: float) -> int:
        """The number of the first line after `t`: lines `[0, index_at(t))` are in the past."""
        return int(t * self.rate)

    def lines(self, start: int, stop: int) -> Iterator[LogLine]:
        """Lines `start` to `stop - 1`, oldest first; none while no replica runs."""
        i = start
        while i < stop:
            end = min(stop, (i // self.chunk + 1) * self.chunk)
            state = self.timeline.state(i / self.rate)
            if self.spec.style == CDN:
                sources = edges()
            else:
                sources = [r.name for r in replicas(self.timeline, state)]
            if sources:
                errors = 0.015 + 0.3 * state.incident
                warnings = errors + 0.05 + 0.1 * state.incident
                debug = warnings + (0.0 if self.spec.style == CDN else 0.08)
                for n in range(i, end):
                    yield self._line(n, errors, warnings, debug, sources)
            i = end

    def _line(
        self, n: int, errors: float, warnings: float, debug: float, sources: list[str]
    ) -> LogLine:
        h = mix(self.salt ^ n)
        roll = (h & 0xFFFF) / 65536
        if roll < errors:
            level = ERROR
        elif roll < warnings:
            level = WARN
        else:
            level = DEBUG if roll < debug else INFO
        ts = (n + ((h >> 16) & 0xFF) / 284) / self.rate
        source = sources[(h >> 24) % len(sources)]
        content = mix(h)  # a second draw, so what a line says is independent of the above
        if self.spec.style == JOBS:
            text = self._job(level, content)
        elif self.spec.style == CDN:
            text = self._edge(level, content)
        else:
            text = self._http(level, content)
        return LogLine(ts=datetime.fromtimestamp(ts, UTC), text=text, level=level, source=source)

    def _route(self, h: int) -> str:
        routes = self.spec.routes
        return routes[h % len(routes)].replace("{n}", str(10000 + (h >> 8) % 90000))

    def _http(self, level: str, h: int) -> str:
        method, path = self._route(h).split(" ", 1)
        ms = int(self.spec.p99 * (0.1 + ((h >> 24) & 0xFF) / 400))
        ip = f"10.{(h >> 32) & 0xFF}.{(h >> 40) & 0xFF}.{(h >> 48) & 0xFF}"
        size = 200 + (h >> 36) % 9000
        pick = (h >> 56) & 7
        if level == DEBUG:
            if pick < 4:
                return f"db query {self.spec.name}_by_id took {ms // 6}ms"
            return f"pool stats: {1 + pick} active, {12 - pick} idle connections"
        if level == INFO:
            if pick == 0:
                return f"cache refreshed: {size} keys"
            status = (_READ_OK if method == "GET" else _WRITE_OK)[pick]
            return f'{ip} - "{method} {path} HTTP/1.1" {status} {size} {ms}ms'
        if level == WARN:
            if pick < 5:
                return f'{ip} - "{method} {path} HTTP/1.1" {_CLIENT[pick]} {size % 400} {ms}ms'
            return f"slow request {method} {path} took {ms * 4}ms"
        dep = self.deps[pick % len(self.deps)]
        if pick < 5:
            return f'{ip} - "{method} {path} HTTP/1.1" {_SERVER[pick]} 0 {ms * 8}ms'
        return f"upstream {dep} timed out after 2000ms on {method} {path}"

    def _job(self, level: str, h: int) -> str:
        job = 480000 + (h >> 4) % 100000
        name = self.spec.routes[h % len(self.spec.routes)]
        ms = int(self.spec.p99 * (0.1 + ((h >> 24) & 0xFF) / 400))
        pick = (h >> 40) & 3
        if level == DEBUG:
            return f"heartbeat: {pick + 1} in flight, queue depth {(h >> 48) % 40}"
        if level == INFO:
            if (h >> 44) & 7 == 0:
                return f"picked up {1 + pick} jobs from queue default"
            return f"job {job} {name} done in {ms}ms"
        if level == WARN:
            return f"job {job} {name} retry {1 + pick}/5: {_RETRY[pick]}"
        return f"job {job} {name} failed: {_FAIL[pick]}"

    def _edge(self, level: str, h: int) -> str:
        path = self._route(h)
        ms = int(self.spec.p99 * (0.05 + ((h >> 24) & 0xFF) / 300))
        size = round(0.4 + ((h >> 32) % 400) / 10, 1)
        pick = (h >> 56) & 7
        if level == ERROR:
            return f"GET {path} {_SERVER[pick]} 0.0KB cache=Error origin timeout after 30000ms"
        if level == WARN:
            return f"GET {path} {_CLIENT[pick]} 0.3KB cache=Error {ms}ms"
        return f"GET {path} 200 {size}KB cache={_CACHE[pick]} {ms}ms"
