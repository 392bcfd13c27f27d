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
from datetime import datetime, timedelta
from pathlib import Path

import sqlite_utils

from console.domain.consensus import Vote
from console.domain.errors import PolicyRefused
from console.store.db import Store, from_text, to_text

VOTES = "gate_votes"
ANSWERS = "gate_answers"
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


def _create(db: sqlite_utils.Database) -> None:
    db[VOTES].create(
        {"gate": str, "voter": str, "approve": int, "at": str, "comment": str},
        pk=("gate", "voter"),
        not_null={"approve", "at", "comment"},
        defaults={"comment": ""},
        if_not_exists=True,
    )
    db[ANSWERS].create(
        {"gate": str, "decision": str, "state": str, "by": str, "at": str, "detail": str},
        pk="gate",
        not_null={"decision", "state", "by", "at", "detail"},
        defaults={"detail": ""},
        if_not_exists=True,
    )


class GateStore(Store):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.ensure([VOTES, ANSWERS], _create)

    def votes(self, gate: str) -> tuple[Vote, ...]:
        with self.lock:
            return self._votes(gate)

    def _votes(self, gate: str) -> tuple[Vote, ...]:
        rows = self.db[VOTES].rows_where("gate = ?", [gate], order_by="at")
        return tuple(
            Vote(
                voter=r["voter"],
                approve=bool(r["approve"]),
                at=from_text(r["at"]),
                revision=gate,
                comment=r["comment"],
            )  # fmt: skip
            for r in rows
        )

    def answer(self, gate: str) -> GateAnswer | None:
        with self.lock:
            return self._answer(gate)

    def _answer(self, gate: str) -> GateAnswer | None:
        for r in self.db[ANSWERS].rows_where("gate = ?", [gate]):
            return GateAnswer(gate, r["decision"], r["state"], r["by"], from_text(r["at"]),
                              r["detail"])  # fmt: skip
        return None

    def cast(self, gate: str, vote: Vote, decide: Callable[[tuple[Vote, ...]], str | None]) -> Cast:
        """Records `vote` (replacing the voter's earlier one) and claims the decision, if any."""
        with self.writing() as db:
            answer = self._answer(gate)
            if answer is not None and answer.state == SENT:
                raise PolicyRefused(
                    f"{gate} was already answered ({answer.decision}) by {answer.by}"
                )
            db[VOTES].upsert(
                {"gate": gate, "voter": vote.voter, "approve": int(vote.approve),
                 "at": to_text(vote.at), "comment": vote.comment},
                pk=("gate", "voter"),
            )  # fmt: skip
            votes = self._votes(gate)
            if answer is not None and vote.at - answer.at < STALE_CLAIM:
                return Cast(votes, None, answer)
            decided = decide(votes)
            if decided is not None:
                db[ANSWERS].upsert(
                    {"gate": gate, "decision": decided, "state": SENDING, "by": vote.voter,
                     "at": to_text(vote.at), "detail": ""},
                    pk="gate",
                )  # fmt: skip
            return Cast(votes, decided, None)

    def finish(self, gate: str, *, sent: bool, detail: str) -> None:
        """Marks the claimed answer sent, or drops the claim so a later vote retries."""
        with self.writing() as db:
            if sent:
                db[ANSWERS].update(gate, {"state": SENT, "detail": detail})
            else:
                db[ANSWERS].delete_where("gate = ?", [gate])
