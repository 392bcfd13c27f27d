"""Votes on provider approvals in the ledger: the vote that decides claims the answer
once, a failed send lets the next vote try again, an answered gate takes no votes;
with keys, only signed votes by members count, and a file from before signing keeps
its votes readable (as unsigned)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.domain import gates
from console.domain.derive import Signed
from console.domain.errors import PolicyRefused
from console.domain.settings import Policy
from console.store.gates import GateStore
from tests.paths import FORGER
from tests.signing_support import SoftKeys

GATE = "ci:4242/production"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
POLICY = Policy("production", min_approvals=2, block_on_rejections=2)
TEAM = ("alice", "bob", "carol")


def decide(stored):  # noqa: ANN001, ANN201
    votes, _ = gates.counted(stored, NOW, verify=None, members=None)
    return gates.decision(gates.tally(GATE, votes, POLICY, NOW))


def vote(store: GateStore, who: str, approve: bool = True, at: datetime = NOW):  # noqa: ANN201
    return store.cast(Signed(gates.ballot(GATE, "production", who, approve, at)), decide)


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
        assert [v.act.voter for v in store.votes(GATE, "production")] == ["alice", "bob"]
    finally:
        store.close()


def forge(path: Path, *argv: str) -> None:
    """The hostile member's raw sqlite3 on the shared file."""
    subprocess.run([sys.executable, str(FORGER), str(path), *argv], check=True)


def test_with_keys_only_votes_signed_by_members_over_this_gate_count(tmp_path: Path) -> None:
    keys = SoftKeys((*TEAM, "mallory"))
    verify = keys.allowed(TEAM).valid

    def signed(who: str, gate: str = GATE, environment: str = "production") -> Signed:
        ballot = gates.ballot(gate, environment, who, True, NOW)
        return Signed(ballot, keys.sign(who, ballot.message()))

    def counted(store: GateStore) -> tuple[list[str], dict[str, str]]:
        stored = store.votes(GATE, "production")
        votes, ignored = gates.counted(stored, NOW, verify=verify, members=frozenset(TEAM))
        return [v.voter for v in votes], {s.act.voter: why for s, why in ignored}

    path = tmp_path / "a.db"
    with GateStore(path) as store:
        assert store.cast(signed("alice"), lambda _: None).claimed is None
        forge(path, "insert-gate-vote", GATE, "bob", "approve", "alice")  # alice's signature
        forge(path, "insert-gate-vote", GATE, "carol", "approve")  # no signature at all
        assert counted(store) == (
            ["alice"],
            {"bob": "the signature is not bob's over this content", "carol": "not signed by carol"},
        )
        # Signed by a non-member, or by bob for another gate (replayed here): neither counts.
        store.cast(signed("mallory"), lambda _: None)
        other = signed("bob", gate="ci:4243/production")
        store.cast(Signed(replace(other.act, gate=GATE), other.signature), lambda _: None)
        voters, ignored = counted(store)
        assert voters == ["alice"]
        assert ignored["mallory"] == "mallory is not a member of the team"
        assert ignored["bob"] == "the signature is not bob's over this content"
        # The same vote signed by bob over this gate counts; so does it without keys.
        store.cast(signed("bob"), lambda _: None)
        assert counted(store)[0] == ["alice", "bob"]
        wrong_env = store.votes(GATE, "staging")  # the provider now lists it elsewhere
        votes, _ = gates.counted(wrong_env, NOW, verify=verify, members=frozenset(TEAM))
        assert votes == ()


def test_a_file_from_before_signed_votes_keeps_its_votes_as_unsigned(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(  # the table as Quorum created it before votes carried signatures
        """
        CREATE TABLE [gate_votes] ([gate] TEXT, [voter] TEXT, [approve] INTEGER NOT NULL,
            [at] TEXT NOT NULL, [comment] TEXT NOT NULL DEFAULT '', PRIMARY KEY ([gate], [voter]));
        CREATE TABLE [gate_answers] ([gate] TEXT PRIMARY KEY, [decision] TEXT NOT NULL,
            [state] TEXT NOT NULL, [by] TEXT NOT NULL, [at] TEXT NOT NULL,
            [detail] TEXT NOT NULL DEFAULT '');
        INSERT INTO gate_votes VALUES ('ci:4242/production', 'alice', 1,
            '2026-03-01T11:00:00.000000Z', 'looks fine');
        """
    )
    old.close()
    with GateStore(path) as store:
        (stored,) = store.votes(GATE, "production")
        assert (stored.act.voter, stored.act.comment, stored.signature) == (
            "alice",
            "looks fine",
            "",
        )
        unsigned, _ = gates.counted((stored,), NOW, verify=None, members=frozenset(TEAM))
        assert [v.voter for v in unsigned] == ["alice"]
        keys = SoftKeys(TEAM)
        signed, ignored = gates.counted(
            (stored,), NOW, verify=keys.allowed(TEAM).valid, members=frozenset(TEAM)
        )
        assert signed == () and ignored[0][1] == "not signed by alice"
        assert vote(store, "bob").claimed == gates.APPROVED  # the new column takes new votes
