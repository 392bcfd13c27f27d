"""One probe: a GET of one endpoint with a deadline on the whole exchange, read to a
bounded size, reduced to its status, latency and a one-line verdict."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import httpx

MAX_BODY = 4 * 1024 * 1024  # a /metrics page is kilobytes; more is not a page to parse
# What a JSON body's "status" may say on a passing check (Spring's UP, the RFC draft's pass).
PASSING = frozenset({"healthy", "ready", "ok", "pass", "up", "serving"})


@dataclass(frozen=True)
class Probe:
    """What one endpoint answered; `error` is set when it gave no usable HTTP answer."""

    check: str  # health | ready | metrics
    status: int | None
    latency_ms: float
    body: str = ""
    error: str = ""

    @property
    def verdict(self) -> str:
        """ "" when the check passes, else why not in a few words."""
        if self.error:
            return self.error
        if self.status is None or not 200 <= self.status < 300:
            return f"HTTP {self.status}"
        word = said_status(self.body)
        if self.check != "metrics" and word is not None and word.lower() not in PASSING:
            return f"status {word[:40]}"
        return ""

    @property
    def passed(self) -> bool:
        return not self.verdict

    def field(self, *names: str) -> str:
        """The first of `names` a JSON body carries as text (a version), else ""."""
        body = _json(self.body)
        for name in names:
            value = body.get(name) if isinstance(body, dict) else None
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                return str(value)[:40]
        return ""


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


def said_status(text: str) -> str | None:
    """The "status" a JSON body reports, if it reports one as text."""
    body = _json(text)
    value = body.get("status") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def _failure(exc: BaseException, timeout: float) -> str:
    """One line from the error's kind, never its text (which quotes the URL)."""
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return f"no answer in {timeout:g}s"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or unreachable"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.LocalProtocolError):
        return "not an HTTP answer"
    if isinstance(exc, httpx.HTTPError):
        return f"transport error ({type(exc).__name__})"
    return f"unexpected error ({type(exc).__name__})"


async def probe(client: httpx.AsyncClient, check: str, url: str, timeout: float) -> Probe:
    """GETs `url`; never raises: a failure is a Probe with `error` set."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):  # connect, headers and body together
            async with client.stream("GET", url) as response:
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_BODY:
                        raise _TooLarge
                    chunks.append(chunk)
    except _TooLarge:
        elapsed = (time.perf_counter() - started) * 1000
        return Probe(check, response.status_code, elapsed, error="answer larger than 4 MiB")
    except Exception as exc:
        elapsed = (time.perf_counter() - started) * 1000
        return Probe(check, None, elapsed, error=_failure(exc, timeout))
    elapsed = (time.perf_counter() - started) * 1000
    body = b"".join(chunks).decode("utf-8", errors="replace")
    return Probe(check, response.status_code, elapsed, body)


class _TooLarge(Exception):
    pass
