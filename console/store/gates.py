"""Votes on providers' own approvals (gates), and who is forwarding a gate's answer.

A gate whose environment forwards after quorum collects votes here, in the same
SQLite file as the proposals, one row per voter. The vote that decides the gate
also claims the answer in the same `BEGIN IMMEDIATE` transaction, so of two voters
completing the quorum at the same moment exactly one sends it. A claim that failed
to send is dropped (the next vote tries again); one older than `STALE_CLAIM` whose
process died is taken over.

Each vote row keeps its author's signature (`console.domain.acts.GateVoteAct`); the
rows are only what members wrote, and `console.domain.gates.counted` decides which
of them count. A file made before votes were signed gains the column on open.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlite_utils

from console.domain.acts import GateVoteAct, stamp
from console.domain.derive import Signed
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

    votes: tuple[Signed[GateVoteAct], ...]  # as stored: `gates.counted` says which count
    claimed: str | None
    answer: GateAnswer | None  # an answer another voter is sending or sent


def _create(db: sqlite_utils.Database) -> None:
    db[VOTES].create(
        {"gate": str, "voter": str, "approve": int, "at": str, "comment": str, "signature": str},
        pk=("gate", "voter"),
        not_null={"approve", "at", "comment", "signature"},
        defaults={"comment": "", "signature": ""},
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
        self._add_signatures()

    def _add_signatures(self) -> None:
        """Gives a file made before votes were signed its signature column; its old votes
        are unsigned, so they count only for a team without keys. A reader that may not
        write keeps reading (every vote then reads as unsigned)."""
        if "signature" in self.db[VOTES].columns_dict:
            return
        with contextlib.suppress(sqlite3.OperationalError), self.writing():
            self.conn.execute(f"ALTER TABLE {VOTES} ADD COLUMN signature TEXT NOT NULL DEFAULT ''")

    def votes(self, gate: str, environment: str) -> tuple[Signed[GateVoteAct], ...]:
        """The votes stored on `gate`, read as acts on it in `environment` (the gate's as
        the provider lists it): a signature made for another gate does not verify."""
        with self.lock:
            return self._votes(gate, environment)

    def _votes(self, gate: str, environment: str) -> tuple[Signed[GateVoteAct], ...]:
        rows = self.db[VOTES].rows_where("gate = ?", [gate], order_by="at")
        return tuple(
            Signed(
                GateVoteAct(
                    gate,
                    environment,
                    r["voter"],
                    bool(r["approve"]),
                    from_text(r["at"]),
                    r["comment"],
                ),
                r.get("signature") or "",
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

    def cast(
        self,
        signed: Signed[GateVoteAct],
        decide: Callable[[tuple[Signed[GateVoteAct], ...]], str | None],
    ) -> Cast:
        """Records the vote `signed` (replacing its voter's earlier one) and claims the
        decision `decide` takes on the gate's stored votes, if any."""
        vote = signed.act
        gate = vote.gate
        with self.writing() as db:
            answer = self._answer(gate)
            if answer is not None and answer.state == SENT:
                raise PolicyRefused(
                    f"{gate} was already answered ({answer.decision}) by {answer.by}"
                )
            db[VOTES].upsert(
                {"gate": gate, "voter": vote.voter, "approve": int(vote.approve),
                 "at": stamp(vote.at), "comment": vote.comment, "signature": signed.signature},
                pk=("gate", "voter"),
            )  # fmt: skip
            votes = self._votes(gate, vote.environment)
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
