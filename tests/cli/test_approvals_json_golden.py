"""`quorum approvals --json` writes the same document, byte for byte, over a ledger
with every kind of history: open, blocked, amended with a stale vote, withdrawn,
expired, overridden and waiting for its review, and a vote dated in the future.

The expected text is kept in `golden/approvals.json`. It was written by the command
before its listing was made cheaper, so any change in what a script reads fails here;
a change made on purpose rewrites the file with `QUORUM_WRITE_GOLDEN=1`.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.cli import runner
from console.cli.main import main
from console.config import sandbox_team
from console.domain.acts import VoteAct
from console.domain.consensus import Kind
from console.domain.derive import Signed
from console.domain.identity import Identity
from console.engine.actions import Actions
from console.engine.session import open_session
from console.engine.targets import resolve_target

GOLDEN = Path(__file__).parent / "golden" / "approvals.json"
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
READ_AT = T0 + timedelta(days=2, hours=2)


@pytest.fixture(autouse=True)
def sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")
    monkeypatch.setenv("QUORUM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QUORUM_STATE_DIR", str(tmp_path / "state"))
    # The sandbox team's first member is whoever runs it: here, the same name everywhere.
    monkeypatch.setattr(sandbox_team, "current_user", lambda: "dave")


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def step(self, minutes: float = 1) -> None:
        self.at += timedelta(minutes=minutes)


async def _history() -> None:
    session = open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))
    clock = Clock(T0)
    people = {
        name: Actions(session, identity=Identity(name, "tester"), clock=clock)
        for name in ("alice", "bob", "carol", "dave")
    }
    dave, alice, bob = people["dave"], people["alice"], people["bob"]
    try:
        api = (await resolve_target(session, "api", "production")).ref
        billing = (await resolve_target(session, "billing", "production")).ref
        # Expired by the time it is read: no activity for longer than the vote TTL.
        await dave.propose(Kind.DEPLOY, api, revision="v0", reason="old one")
        clock.at = READ_AT - timedelta(hours=3)
        waiting = (await dave.propose(Kind.DEPLOY, api, revision="v1", reason="ship")).proposal
        clock.step()
        await alice.vote(waiting.id, True, "looks fine")
        clock.step()
        blocked = (await dave.propose(Kind.DEPLOY, api, revision="v2")).proposal
        await alice.vote(blocked.id, False, "not today")
        clock.step()
        await bob.vote(blocked.id, False)
        clock.step()
        amended = (await dave.propose(Kind.DEPLOY, api, revision="v3")).proposal
        await alice.vote(amended.id, True)
        clock.step()
        await dave.amend(amended.id, "v3b")
        clock.step()
        gone = (await dave.propose(Kind.DEPLOY, api, revision="v4")).proposal
        await dave.withdraw(gone.id)
        clock.step()
        overridden = (await dave.propose(Kind.DEPLOY, billing, revision="v1.7.0")).proposal
        clock.step()
        await people["carol"].override(overridden.id, "card payments down")
        clock.step()
        early = (await dave.propose(Kind.SCALE, api, replicas=3, reason="traffic")).proposal
        # A vote stored dated a day after the read: it does not count yet, and says why.
        ledger = dave.ledger
        with ledger.store.writing():
            ahead = VoteAct(early.id, 1, "carol", True, READ_AT + timedelta(days=1))
            ledger.acts.add(Signed(ahead))
        clock.step()
        await dave.propose(Kind.RESTART, api, reason="redémarrer après la fuite")
    finally:
        for actions in people.values():
            actions.close()
        await session.close()


def test_the_document_is_unchanged(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(_history())
    capsys.readouterr()
    monkeypatch.setattr(runner, "Actions", functools.partial(Actions, clock=lambda: READ_AT))
    assert main(["--sandbox", "approvals", "--json"]) == 0
    out = capsys.readouterr().out
    if os.environ.get("QUORUM_WRITE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(out)
    assert out == GOLDEN.read_text()
