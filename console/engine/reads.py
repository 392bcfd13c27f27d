"""Every provider read besides the hub's snapshot loop, bounded the same way.

Details, logs, metrics, revisions, provider approvals and the one-off snapshots that
find a target all go through here, so each has the same timeout (`READ_TIMEOUT`, the
hub's default too) and the same error mapping: whatever a backend does (a typed
provider error, no answer in time, an exception it should not raise) ends as one
`ReadFailed` line naming the provider, never as a traceback or a hung command.
The command line and the console call the same functions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from console.domain.errors import QuorumError, UsageError
from console.domain.model import (
    LogLine,
    ProviderApproval,
    Revision,
    Series,
    Snapshot,
    TargetDetails,
    TargetRef,
)
from console.engine.session import Session
from providers.base import Capability, Provider, ProviderError

READ_TIMEOUT = 10.0  # seconds one provider read may take
READ_CONCURRENCY = 8  # providers asked at once when a read fans out to all of them

T = TypeVar("T")


class ReadFailed(QuorumError):
    """A provider read failed or timed out; the message is the one line users see."""


def describe_failure(exc: BaseException, source: str = "", timeout: float = READ_TIMEOUT) -> str:
    """The one line for any failure of a backend call (the hub's stale marker included).

    A provider's typed error already names what failed and is kept as it is; a
    timeout or an exception a provider should not raise names `source` (the provider
    and the read), since nothing else in the line would.
    """
    if isinstance(exc, ProviderError):
        return str(exc)
    where = f"{source}: " if source else ""
    if isinstance(exc, TimeoutError):
        if source:
            return f"timeout: {where}no answer within {timeout:g}s"
        return "timeout: no answer in time"
    return f"bad response: {where}{type(exc).__name__}: {exc}"


def provider_for(session: Session, ref: TargetRef, capability: Capability, what: str) -> Provider:
    """The provider serving `ref`, refused (usage error) when it cannot give `what`."""
    provider = session.providers.get(ref.provider)
    if provider is None:
        raise UsageError(f"provider {ref.provider!r} is not configured or failed to start")
    if not provider.can(capability):
        raise UsageError(f"provider {provider.name} ({provider.kind}) has no {what}")
    return provider


async def bounded(
    provider: Provider, what: str, call: Awaitable[T], timeout: float = READ_TIMEOUT
) -> T:
    """`call` within `timeout`; any failure becomes ReadFailed, one line (`describe_failure`)."""
    try:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
        # cancellation that lands as the call completes.
        async with asyncio.timeout(timeout):
            return await call
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # every backend failure is a line, not a traceback
        raise _failed(provider, what, exc, timeout) from None


def _failed(provider: Provider, what: str, exc: Exception, timeout: float) -> ReadFailed:
    return ReadFailed(describe_failure(exc, f"{provider.name} ({what})", timeout))


def _of(ref: TargetRef) -> str:
    return f"{ref.service}@{ref.environment}"


async def details(
    session: Session, ref: TargetRef, *, timeout: float = READ_TIMEOUT
) -> TargetDetails:
    """The pods and recent events behind `ref` (`quorum describe`, the console's `d`)."""
    provider = session.providers.get(ref.provider)
    if provider is None:
        raise UsageError(f"provider {ref.provider!r} is not configured or failed to start")
    return await bounded(provider, f"details of {_of(ref)}", provider.details(ref), timeout)


async def metrics(
    session: Session, ref: TargetRef, window: timedelta, *, timeout: float = READ_TIMEOUT
) -> list[Series]:
    """`ref`'s named series over the last `window`."""
    provider = provider_for(session, ref, Capability.METRICS, "metrics")
    return await bounded(provider, f"metrics of {_of(ref)}", provider.metrics(ref, window), timeout)


async def revisions(
    session: Session, ref: TargetRef, *, timeout: float = READ_TIMEOUT
) -> list[Revision]:
    """`ref`'s history, newest first as the provider gives it (what a rollback can go to)."""
    provider = provider_for(session, ref, Capability.REVISIONS, "revision history")
    what = f"revisions of {_of(ref)}"
    return await bounded(provider, what, provider.revisions(ref), timeout)


async def open_logs(
    session: Session,
    ref: TargetRef,
    *,
    follow: bool = False,
    since: timedelta | None = None,
    tail: int | None = None,
    container: str | None = None,
    previous: bool = False,
    pattern: str | None = None,
    timeout: float = READ_TIMEOUT,
) -> AsyncIterator[LogLine]:
    """`ref`'s log lines as they arrive; failures, even mid-stream, end it with ReadFailed.

    `pattern` is the backend's own filter, for providers with `log_filter` only.

    The opening is bounded: without `follow` the first line (or the end) must come
    within `timeout`, since a read of past lines answers at once or not at all. A
    followed log may rightly stay silent, so only its failures are mapped.
    """
    provider = provider_for(session, ref, Capability.LOGS, "logs")
    what = f"logs of {_of(ref)}"
    options: dict[str, Any] = {"pattern": pattern} if pattern is not None else {}
    try:
        stream = provider.logs(
            ref,
            follow=follow,
            since=since,
            tail=tail,
            container=container,
            previous=previous,
            **options,
        )
    except Exception as exc:  # a provider may refuse before returning the iterator
        raise _failed(provider, what, exc, timeout) from None
    iterator = aiter(stream)

    async def first() -> LogLine | None:
        try:
            return await anext(iterator)
        except StopAsyncIteration:
            return None

    try:
        if not follow:
            line = await bounded(provider, what, first(), timeout)
            if line is None:
                return
            yield line
        while True:
            try:
                line = await anext(iterator)
            except StopAsyncIteration:
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                raise _failed(provider, what, exc, timeout) from None
            yield line
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()


async def take_snapshot(provider: Provider) -> Snapshot:
    """`provider.snapshot()`, for the hub's polls and the one-off reads alike: a provider
    whose snapshot blocks (`Provider.blocking`) answers from a worker thread, on an event
    loop of its own there, while this loop goes on with the keys and the other polls.

    A timeout around this stops the wait, not the thread: a blocking snapshot that never
    returns keeps one worker busy, and the next poll goes on without it.
    """
    if provider.blocking:
        return await asyncio.to_thread(_snapshot_apart, provider)
    return await provider.snapshot()


def _snapshot_apart(provider: Provider) -> Snapshot:
    return asyncio.run(provider.snapshot())


@dataclass(frozen=True)
class ProviderApprovals:
    """What the providers hold for people to approve, and who could not be asked."""

    items: list[ProviderApproval]
    errors: list[str]  # one line per provider that failed: "<provider>: <reason>"


async def approvals(
    session: Session, *, timeout: float = READ_TIMEOUT, concurrency: int = READ_CONCURRENCY
) -> ProviderApprovals:
    """Every provider with `Capability.APPROVALS` asked at once (at most `concurrency` in
    flight), each within `timeout`; one failing provider costs only its own items."""
    asked = [p for p in session.providers.values() if p.can(Capability.APPROVALS)]
    gate = asyncio.Semaphore(concurrency)

    async def ask(provider: Provider) -> list[ProviderApproval]:
        async with gate:
            return await bounded(provider, "approvals", provider.approvals(), timeout)

    answers = await asyncio.gather(*(ask(p) for p in asked), return_exceptions=True)
    items: list[ProviderApproval] = []
    errors: list[str] = []
    for provider, answer in zip(asked, answers, strict=True):
        if isinstance(answer, ReadFailed):
            errors.append(f"{provider.name}: {answer}")
        elif isinstance(answer, BaseException):
            raise answer
        else:
            items.extend(answer)
    return ProviderApprovals(items, errors)


async def snapshots(
    session: Session, *, timeout: float = READ_TIMEOUT, concurrency: int = READ_CONCURRENCY
) -> dict[str, Snapshot | ReadFailed]:
    """One snapshot of every provider, at once and bounded: a failure is kept per provider."""
    gate = asyncio.Semaphore(concurrency)

    async def ask(provider: Provider) -> Snapshot:
        async with gate:
            return await bounded(provider, "snapshot", take_snapshot(provider), timeout)

    providers = list(session.providers.values())
    answers = await asyncio.gather(*(ask(p) for p in providers), return_exceptions=True)
    found: dict[str, Snapshot | ReadFailed] = {}
    for provider, answer in zip(providers, answers, strict=True):
        if isinstance(answer, BaseException) and not isinstance(answer, ReadFailed):
            raise answer
        found[provider.name] = answer
    return found
