"""The contract between Quorum and a backend.

A provider declares what it can do in `capabilities` and implements only those
methods; the others raise `Unsupported`, and the UI never offers them. Every
failure a backend can produce is mapped onto one of the typed errors below so the
console can say what is wrong in one line, whatever the backend.
"""

from __future__ import annotations

import asyncio
import enum
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from console.domain.model import (
    LogLine,
    ProviderApproval,
    Revision,
    Series,
    Snapshot,
    TargetDetails,
    TargetRef,
)


class Capability(enum.Flag):
    SNAPSHOT = enum.auto()
    LOGS = enum.auto()
    METRICS = enum.auto()
    APPROVALS = enum.auto()  # the backend holds approvals of its own (`approvals()`)
    DEPLOY = enum.auto()
    ROLLBACK = enum.auto()
    RESTART = enum.auto()
    SCALE = enum.auto()
    REVISIONS = enum.auto()
    PAUSE = enum.auto()  # pause and resume a rollout
    ANSWER = enum.auto()  # approve or reject the backend's own approvals (`answer`)

    @classmethod
    def mutating(cls) -> Capability:
        """What `--readonly` takes away."""
        return cls.DEPLOY | cls.ROLLBACK | cls.RESTART | cls.SCALE | cls.PAUSE | cls.ANSWER


class ProviderError(Exception):
    """Base of every error a provider raises; `str()` is the one line users see.

    Messages must never contain credentials: providers build them from status
    codes and resource names, not from request headers.
    """

    kind: ClassVar[str] = "error"

    def __str__(self) -> str:
        text = super().__str__() or self.kind
        return f"{self.kind}: {text}"


class AuthError(ProviderError):
    kind = "auth"


class NotFound(ProviderError):
    kind = "not found"


class Unreachable(ProviderError):
    kind = "unreachable"


class ProviderTimeout(ProviderError):
    kind = "timeout"


class BadResponse(ProviderError):
    kind = "bad response"


class Unsupported(ProviderError):
    kind = "unsupported"


class Refused(ProviderError):
    """The backend understood and declined (paused rollout, unknown revision...)."""

    kind = "refused"


# How a long change reports how far it got: (what, done, total); total 0 when unknown.
# The actions path sets the sink around a provider call (`Actions(on_progress=...)`),
# so the contract's method signatures stay as they are; a provider that has nothing
# to report never calls it.
Progress = Callable[[str, int, int], None]
progress_sink: ContextVar[Progress | None] = ContextVar("quorum_progress", default=None)


def report_progress(what: str, done: int = 0, total: int = 0) -> None:
    """Tell whoever started the current action how far it got (no-op without a sink)."""
    sink = progress_sink.get()
    if sink is not None:
        sink(what, done, total)


@dataclass(frozen=True)
class Setting:
    """One key a provider kind accepts in its `[[providers]]` block, declared as data.

    Quorum's config checker checks every declared key once, when the file is read:
    its type, whether it is required, its choices, and that no undeclared key is
    present (with a "did you mean"), each problem on its file, line and key. A kind's
    `check_settings` then only adds the rules types cannot say (ranges, keys that
    exclude each other, a file that must exist).
    """

    name: str
    type: str  # a TOML type: "string", "integer", "number", "boolean", "table" or "array"
    default: Any = None
    help: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProviderContext:
    """What Quorum hands every provider besides its own settings."""

    data_dir: Path
    readonly: bool = False


class Provider(ABC):
    """One configured backend instance.

    Subclasses set `kind` and `capabilities`, declare their settings in
    `declared_settings` (and any rule beyond their types in `check_settings`), and are
    constructed cheaply: connecting and importing heavy SDKs happens on first use, so
    a console with many providers starts fast. A kind that declares nothing has its
    keys unchecked but for `check_settings` (third-party kinds written before the
    declaration existed).
    """

    kind: ClassVar[str]
    capabilities: ClassVar[Capability] = Capability.SNAPSHOT
    # The keys this kind accepts besides name/kind/readonly/environments.
    declared_settings: ClassVar[tuple[Setting, ...]] = ()
    # Whether `logs()` takes a `pattern` the backend filters by (CloudWatch's filter
    # syntax...); for other kinds `quorum logs --filter` matches text itself.
    log_filter: ClassVar[bool] = False
    # Whether `snapshot()` does its work without awaiting (reading files, computing):
    # Quorum then runs it in a worker thread, on an event loop of its own, so a slow
    # snapshot never holds the console's keys or the other providers' polls. Such a
    # snapshot must not touch asyncio objects shared with the provider's other calls.
    blocking: ClassVar[bool] = False

    def __init__(self, name: str, settings: Mapping[str, Any], context: ProviderContext):
        self.name = name
        self.settings = dict(settings)
        self.context = context
        self.readonly = context.readonly or bool(self.settings.get("readonly", False))

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Problems beyond the declared types as (key, message) pairs; empty when fine.

        Called with settings whose declared keys already have their declared types."""
        return []

    @property
    def effective_capabilities(self) -> Capability:
        caps = self.capabilities
        if self.readonly:
            caps &= ~Capability.mutating()
        return caps

    def can(self, capability: Capability) -> bool:
        return bool(self.effective_capabilities & capability)

    @abstractmethod
    async def snapshot(self) -> Snapshot:
        """Every target this provider serves, as of now."""

    def logs(
        self,
        target: TargetRef,
        *,
        follow: bool = False,
        since: timedelta | None = None,
        tail: int | None = None,
        container: str | None = None,
        previous: bool = False,
    ) -> AsyncIterator[LogLine]:
        raise Unsupported(f"{self.kind} provider has no logs")

    async def details(self, target: TargetRef) -> TargetDetails:
        """The pods and recent events behind one target, for the details pane."""
        raise Unsupported(f"{self.kind} provider has no details")

    async def metrics(self, target: TargetRef, window: timedelta) -> list[Series]:
        raise Unsupported(f"{self.kind} provider has no metrics")

    async def revisions(self, target: TargetRef) -> list[Revision]:
        raise Unsupported(f"{self.kind} provider has no revision history")

    async def approvals(self) -> list[ProviderApproval]:
        """What waits in the backend for a person; asked only of kinds with APPROVALS."""
        raise Unsupported(f"{self.kind} provider has no approvals")

    async def answer(self, approval: str, approve: bool, comment: str = "") -> str:
        """Approves or rejects one of this provider's approvals, as the holder of its token.

        `approval` is the part of a `ProviderApproval.id` after `provider:`. The
        credentials are those of the process, so a vote goes out as the voter's own
        review. Returns the backend's answer in one line, for the audit log.
        """
        raise Unsupported(f"{self.kind} provider cannot answer approvals")

    async def deploy(self, target: TargetRef, revision: str) -> str:
        raise Unsupported(f"{self.kind} provider cannot deploy")

    async def rollback(self, target: TargetRef, to: str | None = None) -> str:
        raise Unsupported(f"{self.kind} provider cannot roll back")

    async def restart(self, target: TargetRef) -> str:
        raise Unsupported(f"{self.kind} provider cannot restart")

    async def scale(self, target: TargetRef, replicas: int) -> str:
        raise Unsupported(f"{self.kind} provider cannot scale")

    async def pause(self, target: TargetRef) -> str:
        raise Unsupported(f"{self.kind} provider cannot pause a rollout")

    async def resume(self, target: TargetRef) -> str:
        raise Unsupported(f"{self.kind} provider cannot resume a rollout")

    async def check_revision(self, target: TargetRef, revision: str) -> str | None:
        """Why a deploy of `revision` to `target` would be refused, or None when it may go.

        Asked when a deploy is proposed, amended or run, so a revision the backend
        cannot take is refused before anyone votes on it, not after two approvals.
        """
        return None

    async def denied(self, target: TargetRef, capability: Capability) -> str | None:
        """Why the current credentials may not do `capability` on `target`; None if allowed.

        Backends with access reviews (Kubernetes' SelfSubjectAccessReview) answer
        before an action is offered, so a forbidden action is shown disabled with
        the reason instead of being attempted.
        """
        return None

    async def wait_changed(self) -> None:
        """Return when this provider's view changed on its own (a watch event).

        Polling providers never return; the hub then polls on its interval. A
        watch-based provider returns as soon as its cache changed, so the screen
        follows the backend without waiting for the next poll.
        """
        await asyncio.Event().wait()

    async def close(self) -> None:  # noqa: B027 - optional hook, most providers hold nothing
        """Release connections; called once when the console or command ends."""
