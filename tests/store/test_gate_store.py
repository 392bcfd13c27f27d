"""Votes on provider approvals in the ledger: the vote that decides claims the answer
once, a failed send lets the next vote try again, an answered gate takes no votes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.domain import gates
from console.domain.errors import PolicyRefused
from console.domain.settings import Policy
from console.store.gates import GateStore

GATE = "ci:4242/production"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
POLICY = Policy("production", min_approvals=2, block_on_rejections=2)


def decide(votes):  # noqa: ANN001, ANN201
    return gates.decision(gates.tally(GATE, votes, POLICY, NOW))


def vote(store: GateStore, who: str, approve: bool = True, at: datetime = NOW):  # noqa: ANN201
    return store.cast(GATE, gates.ballot(GATE, who, approve, at), decide)


def test_the_deciding_vote_claims_the_answer_once(tmp_path: Path) -> None:
    one, two = GateStore(tmp_path / "a.db"), GateStore(tmp_path / "a.db")
    try:
        assert vote(one, "alice").claimed is None
        decided = vote(one, "bob")
        assert decided.claimed == gates.APPROVED
        late = vote(two, "carol")  # another console, while bob's answer is being sent
        assert late.claimed is None and late.answer is not None and late.answer.by == "bob"
        one.finish(GATE, sent=True, detail="GitHub 200")
        with pytest.raises(PolicyRefused, match="already answered \\(approved\\) by bob"):
            vote(two, "carol")
    finally:
        one.close()
        two.close()


def test_a_failed_send_lets_the_next_vote_try_again(tmp_path: Path) -> None:
    store = GateStore(tmp_path / "a.db")
    try:
        vote(store, "alice")
        assert vote(store, "bob").claimed == gates.APPROVED
        store.finish(GATE, sent=False, detail="auth: 401")
        assert store.answer(GATE) is None
        assert vote(store, "carol").claimed == gates.APPROVED
    finally:
        store.close()


def test_a_claim_whose_process_died_is_taken_over(tmp_path: Path) -> None:
    store = GateStore(tmp_path / "a.db")
    try:
        vote(store, "alice")
        vote(store, "bob")  # claimed, never finished
        later = NOW + timedelta(minutes=6)
        assert vote(store, "carol", at=later).claimed == gates.APPROVED
    finally:
        store.close()


def test_rejections_that_block_decide_a_rejection(tmp_path: Path) -> None:
    store = GateStore(tmp_path / "a.db")
    try:
        assert vote(store, "alice", approve=False).claimed is None  # no single veto
        assert vote(store, "bob", approve=False).claimed == gates.REJECTED
        assert [v.voter for v in store.votes(GATE)] == ["alice", "bob"]
    finally:
        store.close()
