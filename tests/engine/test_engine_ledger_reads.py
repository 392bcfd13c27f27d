"""The ledger reads async callers await (the console's panes), each run off the event loop,
and the one text of an outcome and of a proposal."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from console.domain.consensus import Kind, State
from console.domain.identity import Identity
from console.domain.model import ProviderApproval, Snapshot, utcnow
from console.domain.names import current_user
from console.engine.actions import Actions, Outcome, Result
from console.engine.dispatch import CHANGES
from console.engine.presentation import describe_result, proposal_lines
from console.engine.session import open_session
from console.engine.targets import resolve_target
from console.engine.waiting import what_waits
from providers.base import Capability, Provider, ProviderContext

ME = current_user()


@pytest.fixture(autouse=True)
def quiet_teammates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")


def test_fetches_return_what_the_ledger_holds() -> None:
    session = open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))

    async def scenario() -> None:
        me = Actions(session, identity=Identity(ME, ME))
        alice = Actions(session, identity=Identity("alice", ME))
        try:
            prod = (await resolve_target(session, "api", "production")).ref
            staging = (await resolve_target(session, "web", "staging")).ref
            start = me.clock()
            pid = (await me.propose(Kind.DEPLOY, prod, revision="v8")).proposal.id
            gone = (await me.propose(Kind.DEPLOY, prod, revision="v9")).proposal.id
            await me.withdraw(gone)
            forced = (await me.propose(Kind.RESTART, prod)).proposal.id
            await alice.override(forced, "pager storm")
            ran = await me.change(Kind.DEPLOY, staging, revision="v7.7.7", key="ci-7")

            assert [v.id for v in await me.fetch_open()] == [pid]
            assert [v.id for v in await me.fetch_awaiting_review()] == [forced]
            settled = await me.fetch_settled_since(start)
            assert {v.id: v.state for v in settled} == {
                gone: State.WITHDRAWN,
                forced: State.EXECUTED,
            }
            assert await me.fetch_settled_since(me.clock() + timedelta(minutes=1)) == []
            assert await me.fetch_incomplete() == []
            assert (await me.fetch_proposal(pid)).proposal.revision == "v8"

            tail = await me.fetch_audit(limit=3)
            assert len(tail) == 3
            assert [(r.action, r.outcome, r.key) for r in tail][-2:] == [
                ("deploy", "started", "ci-7"),
                ("deploy", "finished", "ci-7"),
            ]
            newer = await me.fetch_audit(after_seq=tail[-2].seq)
            assert [r.seq for r in newer] == [tail[-1].seq]
            assert ran.ok and ran.key == "ci-7"
        finally:
            me.close()
            alice.close()
            await session.close()

    asyncio.run(scenario())


def test_one_text_for_an_outcome_and_a_proposal() -> None:
    ok = Outcome("proposal-4", "deploy", True, "api at v8")
    again = Outcome("ci-7", "deploy", False, "image pull failed", replayed=True)
    assert (
        describe_result("deployed", ok) == "deployed: deploy finished: api at v8 (key proposal-4)"
    )
    # A failure is said as itself: "retried: ..." would read as if it had worked.
    assert describe_result("retried", again) == (
        "deploy already ran with key ci-7: failed (image pull failed)"
    )
    assert describe_result("noted", None) == "noted"
    session = open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))

    async def scenario() -> None:
        me = Actions(session, identity=Identity(ME, ME))
        try:
            ref = (await resolve_target(session, "api", "production")).ref
            opened = await me.propose(Kind.DEPLOY, ref, revision="v8", reason="fix")
            assert describe_result("proposed", opened) == (
                "proposed: needs 2 more approvals; rejections 0 of 2 to block"
            )
            ran = Result(opened.proposal, ok)
            assert describe_result("approved", ran).startswith("approved, ran: deploy finished")
            lines = proposal_lines(opened.proposal)
            assert lines[0].startswith(f"{opened.proposal.id}  open  deploy api@production")
            assert lines[1:] == [
                "    reason: fix",
                "    needs 2 more approvals; rejections 0 of 2 to block",
            ]
        finally:
            me.close()
            await session.close()

    asyncio.run(scenario())


def test_every_change_kind_has_one_row_in_the_dispatch_table() -> None:
    assert set(CHANGES) == set(Kind)
    assert {k for k, c in CHANGES.items() if c.anyone} == {Kind.ROLLBACK, Kind.PAUSE}


class HoldsApprovals(Provider):
    """A backend that holds one deployment waiting for a reviewer, as GitHub would."""

    kind = "holding"
    capabilities = Capability.SNAPSHOT | Capability.APPROVALS

    async def snapshot(self) -> Snapshot:
        return Snapshot(self.name, (), utcnow())

    async def approvals(self) -> list[ProviderApproval]:
        return [ProviderApproval(self.name, "run-42", "deploy web to production", "production")]


def test_what_waits_gathers_proposals_and_provider_approvals(tmp_path: Path) -> None:
    session = open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))
    session.providers["gh"] = HoldsApprovals("gh", {}, ProviderContext(data_dir=tmp_path))

    async def scenario() -> None:
        me = Actions(session, identity=Identity(ME, ME))
        try:
            ref = (await resolve_target(session, "api", "production")).ref
            start = me.clock()
            pid = (await me.propose(Kind.DEPLOY, ref, revision="v8")).proposal.id
            gone = (await me.propose(Kind.DEPLOY, ref, revision="v9")).proposal.id
            await me.withdraw(gone)
            waiting = await what_waits(me, settled_since=start)
            assert [v.id for v in waiting.proposals] == [pid]
            assert [(a.provider, a.id) for a in waiting.provider_approvals] == [("gh", "run-42")]
            assert [v.id for v in waiting.settled] == [gone]
            assert (waiting.awaiting_review, waiting.incomplete, waiting.provider_errors) == (
                [],
                [],
                [],
            )
            assert (await what_waits(me)).settled == []
        finally:
            me.close()
            await session.close()

    asyncio.run(scenario())
