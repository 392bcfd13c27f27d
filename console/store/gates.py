"""Votes on providers' own approvals (gates), and who is forwarding a gate's answer.

A gate whose environment forwards after quorum collects votes here, in the same
SQLite file as the proposals, one row per voter. The vote that decides the gate
also claims the answer in the same `BEGIN IMMEDIATE` transaction, so of two voters
completing the quorum at the same moment exactly one sends it. A claim that failed
to send is dropped (the next vote tries again); one older than `STALE_CLAIM` whose
process died is taken over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.domain.consensus import Vote
from console.domain.errors import PolicyRefused
from console.store.db import connect, immediate

_SCHEMA = """
CREATE TABLE IF NOT EXISTS gate_votes (
    gate TEXT NOT NULL,
    voter TEXT NOT NULL,
    approve INTEGER NOT NULL,
    at TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (gate, voter)
);
CREATE TABLE IF NOT EXISTS gate_answers (
    gate TEXT PRIMARY KEY,
    decision TEXT NOT NULL,
    state TEXT NOT NULL,
    by TEXT NOT NULL,
    at TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
"""
SENDING = "sending"
SENT = "sent"
STALE_CLAIM = timedelta(minutes=5)


@dataclass(frozen=True)
class GateAnswer:
    gate: str
    decision: str  # approved | rejected
    state: str  # sending | sent
    by: str
    at: datetime
    detail: str = ""


@dataclass(frozen=True)
class Cast:
    """A gate's votes after one vote, and the decision this vote claimed (None: wait)."""

    votes: tuple[Vote, ...]
    claimed: str | None
    answer: GateAnswer | None  # an answer another voter is sending or sent


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


class GateStore:
    def __init__(self, path: Path) -> None:
        self.db = connect(path)
        self.conn = self.db.conn
        self.conn.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def votes(self, gate: str) -> tuple[Vote, ...]:
        rows = self.conn.execute(
            "SELECT voter, approve, at, comment FROM gate_votes WHERE gate = ? ORDER BY at",
            (gate,),
        ).fetchall()
        return tuple(
            Vote(
                voter=r[0],
                approve=bool(r[1]),
                at=datetime.fromisoformat(r[2]),
                revision=gate,
                comment=r[3],
            )  # fmt: skip
            for r in rows
        )

    def answer(self, gate: str) -> GateAnswer | None:
        row = self.conn.execute(
            "SELECT decision, state, by, at, detail FROM gate_answers WHERE gate = ?", (gate,)
        ).fetchone()
        if row is None:
            return None
        return GateAnswer(gate, row[0], row[1], row[2], datetime.fromisoformat(row[3]), row[4])

    def cast(self, gate: str, vote: Vote, decide: Callable[[tuple[Vote, ...]], str | None]) -> Cast:
        """Records `vote` (replacing the voter's earlier one) and claims the decision, if any."""
        with immediate(self.conn):
            answer = self.answer(gate)
            if answer is not None and answer.state == SENT:
                raise PolicyRefused(
                    f"{gate} was already answered ({answer.decision}) by {answer.by}"
                )
            self.conn.execute(
                "INSERT OR REPLACE INTO gate_votes (gate, voter, approve, at, comment) "
                "VALUES (?, ?, ?, ?, ?)",
                (gate, vote.voter, int(vote.approve), _ts(vote.at), vote.comment),
            )
            votes = self.votes(gate)
            busy = answer is not None and vote.at - answer.at < STALE_CLAIM
            if busy:
                return Cast(votes, None, answer)
            decided = decide(votes)
            if decided is not None:
                self.conn.execute(
                    "INSERT OR REPLACE INTO gate_answers (gate, decision, state, by, at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (gate, decided, SENDING, vote.voter, _ts(vote.at)),
                )
            return Cast(votes, decided, None)

    def finish(self, gate: str, *, sent: bool, detail: str) -> None:
        """Marks the claimed answer sent, or drops the claim so a later vote retries."""
        with immediate(self.conn):
            if sent:
                self.conn.execute(
                    "UPDATE gate_answers SET state = ?, detail = ? WHERE gate = ?",
                    (SENT, detail, gate),
                )
            else:
                self.conn.execute("DELETE FROM gate_answers WHERE gate = ?", (gate,))
