"""What the open list keeps between refreshes: proposals that tally alike share one
tally, so thousands waiting for their first vote under one policy keep one, not one
each (the console's resident set with 10,000 open)."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.domain.consensus import Kind
from console.domain.identity import Identity
from console.domain.model import TargetRef
from console.engine.actions import Actions
from providers.sandbox import PAUSED_AT
from tests.app_support import sandbox_session

API_PROD = TargetRef("sim-k8s", "api", "production", "deployment/api")
OPEN = 40


async def test_open_proposals_that_tally_alike_keep_one_tally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")
    session = sandbox_session(tmp_path / "data")
    bob = Actions(session, identity=Identity("bob", "root", via_seam=True), clock=lambda: PAUSED_AT)
    alice = Actions(
        session, identity=Identity("alice", "root", via_seam=True), clock=lambda: PAUSED_AT
    )
    try:
        ids = [
            (await bob.propose(Kind.DEPLOY, API_PROD, revision=f"v{i}")).proposal.id
            for i in range(OPEN)
        ]
        await alice.vote(ids[0], True)  # one tallies otherwise
        found = alice.ledger.pending_held(PAUSED_AT).found
        assert sorted(d.proposal.id for d in found) == sorted(ids)

        tallies = [d.tally for d in found]
        assert all(t is not None for t in tallies)
        alike = set(tallies)
        assert len(alike) == 2  # the voted one, and all the others alike
        assert len({id(t) for t in tallies}) == len(alike)  # one object per value
        for d in found:  # and each is the tally its proposal derives alone
            assert d.tally == alice.ledger.derived(d.proposal.id, PAUSED_AT).tally
    finally:
        bob.close()
        alice.close()
