"""A refresh of the approvals reads only what its window and the file's changes call for:
settled proposals older than the window are never read, and an unchanged file is not
derived again until a proposal's time comes."""

from __future__ import annotations

import argparse
import asyncio
import gc
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from console.domain.acts import Content, ProposalAct, VoteAct
from console.domain.consensus import Kind, Proposal, State
from console.domain.derive import CLOCK_SKEW, Signed
from console.domain.identity import Identity
from console.domain.model import utcnow
from console.domain.names import current_user
from console.engine.actions import Actions
from console.engine.ledger import Ledger
from console.engine.session import open_session
from console.engine.targets import resolve_target
from console.store.acts import ActStore
from console.store.proposals import ProposalStore

ME = current_user()
WINDOW = timedelta(minutes=30)


@pytest.fixture(autouse=True)
def quiet_teammates(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")
    monkeypatch.setenv("QUORUM_DATA_DIR", str(tmp_path))


class Reads:
    """Records the proposal rows the store's queries return and the proposals whose acts
    are read, passing every call through to the real store."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rows: list[int] = []
        self.derived: list[int] = []
        rows, facts = ProposalStore._rows, ActStore.facts

        def recorded_rows(store: ProposalStore, *args: object) -> list[dict]:
            found = rows(store, *args)
            self.rows += [row["id"] for row in found]
            return found

        def recorded_facts(store: ActStore, pids: object) -> dict:
            found = facts(store, pids)
            self.derived += list(found)
            return found

        monkeypatch.setattr(ProposalStore, "_rows", recorded_rows)
        monkeypatch.setattr(ActStore, "facts", recorded_facts)

    def clear(self) -> None:
        self.rows.clear()
        self.derived.clear()


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _session() -> object:
    return open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))


def test_a_refresh_never_reads_settled_proposals_older_than_its_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = _session()
    clock = Clock(utcnow() - timedelta(hours=2))

    async def scenario() -> None:
        me = Actions(session, identity=Identity(ME, ME), clock=clock)
        try:
            ref = (await resolve_target(session, "api", "production")).ref
            old = []
            for i in range(6):
                old.append((await me.propose(Kind.DEPLOY, ref, revision=f"v{i}")).proposal.id)
                await me.withdraw(old[-1])
            clock.at = utcnow() - timedelta(minutes=5)
            recent = (await me.propose(Kind.DEPLOY, ref, revision="v7")).proposal.id
            await me.withdraw(recent)
            waiting = (await me.propose(Kind.DEPLOY, ref, revision="v8")).proposal.id
            clock.at = utcnow()

            reads = Reads(monkeypatch)
            opened = await me.fetch_open()
            review = await me.fetch_awaiting_review()
            settled = await me.fetch_settled_since(clock() - WINDOW)

            assert [v.id for v in opened] == [waiting] and review == []
            assert [(v.id, v.state) for v in settled] == [(recent, State.WITHDRAWN)]
            assert reads.rows and not set(reads.rows) & set(old)
            assert reads.derived and not set(reads.derived) & set(old)
            # The whole history is still there for whoever asks for it.
            assert {v.id for v in await me.fetch_settled_since(clock() - 6 * WINDOW)} >= {
                *old,
                recent,
            }
        finally:
            me.close()
            await session.close()

    asyncio.run(scenario())


def test_open_proposals_are_derived_again_only_when_the_file_or_their_time_moves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = _session()
    clock = Clock(utcnow())

    async def scenario() -> None:
        me = Actions(session, identity=Identity(ME, ME), clock=clock)
        alice = Actions(session, identity=Identity("alice", ME), clock=clock)
        try:
            ref = (await resolve_target(session, "api", "production")).ref
            first = (await me.propose(Kind.DEPLOY, ref, revision="v1")).proposal.id
            await me.fetch_open()

            reads = Reads(monkeypatch)
            assert [v.id for v in await me.fetch_open()] == [first]
            assert reads.rows == [] and reads.derived == []  # nothing changed: nothing read

            # Another connection to the file (another console) votes: read again.
            await alice.vote(first, True)
            reads.clear()
            assert [v.tally.approvals for v in await me.fetch_open()] == [("alice",)]
            assert reads.derived == [first]

            # The file unchanged, the proposal's time still moves it on.
            reads.clear()
            ttl = me.policy(ref.environment).vote_ttl
            clock.at += ttl + timedelta(seconds=1)
            assert await me.fetch_open() == []
            assert reads.derived == [first]
        finally:
            me.close()
            alice.close()
            await session.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("collector_on", [True, False])
def test_deriving_the_open_list_leaves_the_cyclic_collector_as_it_found_it(
    collector_on: bool,
) -> None:
    """The collector is paused while thousands of proposals are derived; the console's
    start runs with it off and turns it on itself, so a derivation must not turn it on."""
    session = _session()

    async def scenario() -> None:
        me = Actions(session, identity=Identity(ME, ME))
        try:
            ref = (await resolve_target(session, "api", "production")).ref
            pid = (await me.propose(Kind.DEPLOY, ref, revision="v1")).proposal.id
            (gc.enable if collector_on else gc.disable)()
            listed = [(v.id, v.state) for v in me.open_proposals()]
            assert gc.isenabled() is collector_on
            assert listed == [(pid, State.OPEN)]
        finally:
            gc.enable()
            me.close()
            await session.close()

    asyncio.run(scenario())


def test_a_cached_row_that_says_open_does_not_list_a_withdrawn_proposal() -> None:
    """Candidates are picked by their cached state alone; what is listed is derived."""
    session = _session()

    async def scenario() -> None:
        me = Actions(session, identity=Identity(ME, ME))
        try:
            ref = (await resolve_target(session, "api", "production")).ref
            gone = (await me.propose(Kind.DEPLOY, ref, revision="v1")).proposal.id
            await me.withdraw(gone)
            kept = (await me.propose(Kind.DEPLOY, ref, revision="v2")).proposal.id
            with me.proposals.writing():
                me.proposals.conn.execute(
                    "UPDATE proposals SET state = 'open' WHERE id = ?", (gone,)
                )
            assert [v.id for v in me.open_proposals()] == [kept]
        finally:
            me.close()
            await session.close()

    asyncio.run(scenario())


def test_the_instant_the_open_list_holds_until_is_worked_out_only_when_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A command that lists and exits never needs it; the console does. Worked out late,
    it still counts every act dated ahead of the clock, those of a candidate that
    derived invalid included (its derivation read no act but its own)."""
    session = _session()
    clock = Clock(utcnow())
    asked: list[int] = []
    changes_at = Ledger.changes_at

    def counted(ledger: Ledger, *args: object) -> datetime:
        asked.append(1)
        return changes_at(ledger, *args)

    monkeypatch.setattr(Ledger, "changes_at", counted)

    async def scenario() -> None:
        me = Actions(session, identity=Identity(ME, ME), clock=clock)
        try:
            ref = (await resolve_target(session, "api", "production")).ref
            voted = (await me.propose(Kind.DEPLOY, ref, revision="v1")).proposal.id
            ahead = (await me.propose(Kind.DEPLOY, ref, revision="v2")).proposal.id
            ledger = me.ledger
            with ledger.store.writing():
                later = VoteAct(ahead, 1, "alice", True, clock() + timedelta(hours=3))
                ledger.acts.add(Signed(later))
                # Not a member's proposal: invalid, though its cached row says open.
                draft = Proposal(0, Kind.DEPLOY, ref, "v3", "mallory", "", clock(), clock())
                forged = ledger.store.insert(draft)
                content = Content(forged.id, 1, Kind.DEPLOY, ref, "v3", None)
                ledger.acts.add(Signed(ProposalAct(content, "mallory", "", clock())))
                sooner = VoteAct(forged.id, 1, "alice", True, clock() + timedelta(hours=2))
                ledger.acts.add(Signed(sooner))
            await me.vote(voted, False)
            asked.clear()

            assert [v.id for v in await me.fetch_open()] == [voted, ahead]
            assert asked == []
            opened, until = await me.fetch_open_until()
            assert [v.id for v in opened] == [voted, ahead]
            assert asked and until == sooner.at - CLOCK_SKEW
        finally:
            me.close()
            await session.close()

    asyncio.run(scenario())
