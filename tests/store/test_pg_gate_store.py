"""Gate votes on the PostgreSQL ledger through `PgGateStore`: a voter's latest vote is
the one read (the earlier stays, never rewritten), two votes completing the quorum
together claim the answer once, and a claim whose sending failed is dropped so the
next vote tries again."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from console.domain import gates
from console.domain.acts import GateVoteAct
from console.domain.derive import Signed
from console.domain.settings import LedgerConfig
from console.store.gates import Cast
from console.store.postgres.gates import PgGateStore
from tests.pg_support import PgServer, connect_as, initialised

GATE = "ci:301/production"


def store_as(
    server: PgServer, database: str, who: str, monkeypatch: pytest.MonkeyPatch
) -> PgGateStore:
    for key, value in server.env(who).items():
        monkeypatch.setenv(key, value)
    return PgGateStore(LedgerConfig(url=f"postgresql://127.0.0.1:{server.port}/{database}"))


def ballot(who: str, approve: bool = True, at: datetime | None = None) -> Signed[GateVoteAct]:
    vote = gates.ballot(GATE, "production", who, approve, at or datetime.now(UTC), "")
    return Signed(vote, f"sig-{who}")


def two_approvals(votes: tuple[Signed[GateVoteAct], ...]) -> str | None:
    return gates.APPROVED if sum(v.act.approve for v in votes) >= 2 else None


def test_a_voters_latest_vote_counts_and_the_earlier_is_kept(
    pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = initialised(pg_server, "gate_latest")
    with store_as(pg_server, database, "alice", monkeypatch) as alice:
        alice.cast(ballot("alice", True), two_approvals)
        later = datetime.now(UTC) + timedelta(seconds=1)
        cast = alice.cast(ballot("alice", False, later), two_approvals)
        assert [(v.act.voter, v.act.approve, v.signature) for v in cast.votes] == [
            ("alice", False, "sig-alice")
        ]
        assert alice.votes(GATE, "production") == cast.votes
    with connect_as(pg_server, "bob", database) as bob:
        rows = bob.execute("SELECT voter, approve FROM quorum.gate_votes ORDER BY seq")
        assert rows.fetchall() == [("alice", True), ("alice", False)]


def test_two_votes_completing_the_quorum_together_claim_the_answer_once(
    pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = initialised(pg_server, "gate_race")
    with store_as(pg_server, database, "alice", monkeypatch) as alice:
        assert alice.cast(ballot("alice"), two_approvals).claimed is None
    bob = store_as(pg_server, database, "bob", monkeypatch)
    carol = store_as(pg_server, database, "carol", monkeypatch)
    results: dict[str, Cast] = {}
    start = threading.Barrier(2)

    def vote(store: PgGateStore, who: str) -> None:
        start.wait()
        results[who] = store.cast(ballot(who), two_approvals)

    threads = [
        threading.Thread(target=vote, args=(s, w)) for s, w in ((bob, "bob"), (carol, "carol"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        claimed = {who: cast.claimed for who, cast in results.items()}
        (winner,) = [who for who, decision in claimed.items() if decision == gates.APPROVED]
        (other,) = set(results) - {winner}
        assert results[other].claimed is None
        answer = results[other].answer
        assert answer is not None and (answer.by, answer.state) == (winner, "sending")
        # The sender's answer failed: the claim is dropped, and the next vote claims again.
        (bob if winner == "bob" else carol).finish(GATE, sent=False, detail="503")
        again = (carol if winner == "bob" else bob).cast(ballot(other), two_approvals)
        assert again.claimed == gates.APPROVED
    finally:
        bob.close()
        carol.close()
