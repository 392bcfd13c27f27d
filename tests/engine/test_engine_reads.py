"""Every provider read outside the hub's loop: one timeout, one error line, bounded fan-out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.domain.errors import UsageError
from console.domain.model import (
    LogLine,
    ProviderApproval,
    Revision,
    RolloutStatus,
    Series,
    Snapshot,
    Target,
    TargetDetails,
    TargetRef,
)
from console.domain.settings import Config
from console.engine import reads
from console.engine.reads import ReadFailed
from console.engine.session import Session
from console.engine.targets import resolve_target
from providers.base import Capability, Provider, ProviderContext, Unreachable

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
FLIGHT = {"now": 0, "most": 0}  # calls in flight across every provider of a test


class Backend(Provider):
    """Answers, hangs (until the test lets it go), raises a typed error, or breaks."""

    kind = "scripted"
    capabilities = (
        Capability.SNAPSHOT
        | Capability.LOGS
        | Capability.METRICS
        | Capability.REVISIONS
        | Capability.APPROVALS
    )

    def __init__(self, name: str, mode: str, tmp: Path) -> None:
        super().__init__(name, {}, ProviderContext(data_dir=tmp))
        self.mode = mode
        self.release = asyncio.Event()
        self.in_flight = 0
        self.ref = TargetRef(name, f"svc-{name}", "production", f"deployment/svc-{name}")

    async def _answer(self) -> None:
        self.in_flight += 1
        FLIGHT["now"] += 1
        FLIGHT["most"] = max(FLIGHT["most"], FLIGHT["now"])
        try:
            if self.mode == "hang":
                await self.release.wait()
            if self.mode == "raise":
                raise Unreachable("connection refused")
            if self.mode == "bug":
                raise KeyError("items")
        finally:
            self.in_flight -= 1
            FLIGHT["now"] -= 1

    async def snapshot(self) -> Snapshot:
        await self._answer()
        return Snapshot(self.name, (Target(self.ref, "v1", RolloutStatus.READY, 1, 1),), NOW)

    async def details(self, target: TargetRef) -> TargetDetails:
        await self._answer()
        return TargetDetails(target=(await self.snapshot()).targets[0], pods=(), events=())

    async def metrics(self, target: TargetRef, window: timedelta) -> list[Series]:
        await self._answer()
        return []

    async def revisions(self, target: TargetRef) -> list[Revision]:
        await self._answer()
        return []

    async def approvals(self) -> list[ProviderApproval]:
        await self._answer()
        return [ProviderApproval(self.name, "run-7", f"deploy {self.name}", "production")]

    async def logs(
        self,
        target: TargetRef,
        *,
        follow: bool = False,
        since: timedelta | None = None,
        tail: int | None = None,
        container: str | None = None,
        previous: bool = False,
    ) -> AsyncIterator[LogLine]:
        yield LogLine(ts=NOW, text="first")
        await self._answer()
        yield LogLine(ts=NOW, text="second")


class Silent(Backend):
    """A provider that never declared approvals: it is not asked."""

    capabilities = Capability.SNAPSHOT

    async def approvals(self) -> list[ProviderApproval]:
        raise AssertionError("asked for approvals it never declared")


def session_of(*providers: Provider) -> Session:
    return Session(
        config=Config(),
        data_dir=Path("."),
        readonly=False,
        providers={p.name: p for p in providers},
    )


async def test_a_hanging_read_ends_as_one_line_naming_provider_and_read(tmp_path: Path) -> None:
    slow = Backend("slow", "hang", tmp_path)
    session = session_of(slow)
    for read in (
        reads.details(session, slow.ref, timeout=0.05),
        reads.metrics(session, slow.ref, timedelta(minutes=5), timeout=0.05),
        reads.revisions(session, slow.ref, timeout=0.05),
    ):
        with pytest.raises(ReadFailed) as failed:
            await read
        text = str(failed.value)
        assert text.startswith("timeout: slow (") and text.endswith("no answer within 0.05s")
        assert "\n" not in text and f"of {slow.ref.service}@production" in text


async def test_typed_errors_stay_as_they_are_and_bugs_become_bad_responses(
    tmp_path: Path,
) -> None:
    down, buggy = Backend("down", "raise", tmp_path), Backend("buggy", "bug", tmp_path)
    session = session_of(down, buggy)
    with pytest.raises(ReadFailed, match="^unreachable: connection refused$"):
        await reads.details(session, down.ref)
    with pytest.raises(ReadFailed) as failed:
        await reads.revisions(session, buggy.ref)
    assert str(failed.value) == (
        f"bad response: buggy (revisions of {buggy.ref.service}@production): KeyError: 'items'"
    )


async def test_a_read_the_provider_cannot_give_is_a_usage_error(tmp_path: Path) -> None:
    plain = Silent("plain", "ok", tmp_path)
    session = session_of(plain)
    with pytest.raises(UsageError, match="provider plain \\(scripted\\) has no metrics"):
        await reads.metrics(session, plain.ref, timedelta(minutes=5))
    with pytest.raises(UsageError, match="has no logs"):
        await anext(reads.open_logs(session, plain.ref))
    ghost = TargetRef("ghost", "x", "production", "x")
    with pytest.raises(UsageError, match="'ghost' is not configured"):
        await reads.details(session, ghost)


async def test_approvals_are_gathered_at_once_and_one_failure_costs_only_its_own(
    tmp_path: Path,
) -> None:
    FLIGHT.update(now=0, most=0)
    fine = [Backend(f"ok{n}", "hang", tmp_path) for n in range(5)]
    down = Backend("down", "raise", tmp_path)
    session = session_of(*fine, down, Silent("quiet", "ok", tmp_path))
    gathering = asyncio.create_task(reads.approvals(session, concurrency=3))
    # Three in flight at once, the others waiting for a slot: bounded, and concurrent.
    while sum(p.in_flight for p in fine) < 3:
        await asyncio.sleep(0)
    for provider in fine:  # let them go one at a time: each freed slot admits the next
        provider.release.set()
        await asyncio.sleep(0)
    asked = await gathering
    assert sorted(a.provider for a in asked.items) == [p.name for p in fine]
    assert asked.errors == ["down: unreachable: connection refused"]
    assert FLIGHT["most"] == 3


async def test_approvals_bound_each_provider_by_the_timeout(tmp_path: Path) -> None:
    stuck, fine = Backend("stuck", "hang", tmp_path), Backend("fine", "ok", tmp_path)
    asked = await reads.approvals(session_of(stuck, fine), timeout=0.05)
    assert [a.provider for a in asked.items] == ["fine"]
    assert asked.errors == ["stuck: timeout: stuck (approvals): no answer within 0.05s"]


async def test_logs_map_a_failure_mid_stream_and_bound_a_read_of_past_lines(
    tmp_path: Path,
) -> None:
    down = Backend("down", "raise", tmp_path)
    session = session_of(down)
    seen: list[str] = []
    with pytest.raises(ReadFailed, match="^unreachable: connection refused$"):
        async for line in reads.open_logs(session, down.ref):
            seen.append(line.text)
    assert seen == ["first"]  # what came before the failure was delivered

    class NoFirstLine(Backend):
        async def logs(self, target: TargetRef, **options: object) -> AsyncIterator[LogLine]:
            await self._answer()
            yield LogLine(ts=NOW, text="never")

    mute = NoFirstLine("mute", "hang", tmp_path)
    with pytest.raises(ReadFailed, match="no answer within 0.05s"):
        await anext(reads.open_logs(session_of(mute), mute.ref, timeout=0.05))


async def test_one_off_snapshots_keep_each_failure_to_its_provider(tmp_path: Path) -> None:
    slow, down = Backend("slow", "hang", tmp_path), Backend("down", "raise", tmp_path)
    fine = Backend("fine", "ok", tmp_path)
    found = await reads.snapshots(session_of(slow, down, fine), timeout=0.05)
    assert str(found["slow"]) == "timeout: slow (snapshot): no answer within 0.05s"
    assert str(found["down"]) == "unreachable: connection refused"
    snapshot = found["fine"]
    assert isinstance(snapshot, Snapshot) and snapshot.targets[0].ref == fine.ref


async def test_resolving_a_target_skips_providers_that_fail(tmp_path: Path) -> None:
    down, fine = Backend("down", "raise", tmp_path), Backend("fine", "ok", tmp_path)
    session = session_of(down, fine)
    assert (await resolve_target(session, fine.ref.service, "production")).ref == fine.ref
    with pytest.raises(
        UsageError, match=r"\(services: svc-fine\); providers that did not answer: down"
    ):
        await resolve_target(session, "nope", "production")


async def test_a_watchers_row_of_the_same_pair_does_not_take_the_command(
    tmp_path: Path,
) -> None:
    """The sandbox's monitoring answers first here; `web --env production` still means
    the Kubernetes Deployment that runs web, not its health row."""
    from providers.sandbox import PAUSED_AT, SandboxProvider, SandboxWatchProvider

    context = ProviderContext(data_dir=tmp_path)
    watch = SandboxWatchProvider("sim-watch", {"paused": True}, context)
    k8s = SandboxProvider("sim-k8s", {"platform": "kubernetes", "paused": True}, context)
    session = session_of(watch, k8s)
    found = await resolve_target(session, "web", "production")
    assert found.ref.provider == "sim-k8s"
    assert (await watch.snapshot()).taken_at == PAUSED_AT  # the watcher does have the pair
    assert any(t.ref.service == "web" for t in (await watch.snapshot()).targets)
