"""Votes on providers' own approvals (gates) on the PostgreSQL ledger, with
`GateStore`'s interface.

`quorum.gate_vote` writes each vote as the session's member, with its signature, as
a new row: a voter's latest vote is the one read, and no vote is rewritten or
deleted. Which votes count stays the client's check (`console.domain.gates.counted`:
signatures, members, the policy), as on the SQLite file. The vote that decides the
gate claims its answer (`quorum.gate_claim`) in the same transaction, under the
clients' write lock, so of two voters completing the quorum together one sends it.
"""

from __future__ import annotations

from collections.abc import Callable

from console.domain.acts import GateVoteAct
from console.domain.derive import Signed
from console.domain.errors import PolicyRefused
from console.store.gates import SENT, STALE_CLAIM, Cast, GateAnswer
from console.store.postgres.base import PgStore


class PgGateStore(PgStore):
    def votes(self, gate: str, environment: str) -> tuple[Signed[GateVoteAct], ...]:
        """Each voter's latest vote on `gate`, read as acts on it in `environment`."""
        with self.reading():
            return self._votes(gate, environment)

    def _votes(self, gate: str, environment: str) -> tuple[Signed[GateVoteAct], ...]:
        rows = self.conn.execute(
            "SELECT voter, approve, at, comment, signature FROM ("
            " SELECT DISTINCT ON (voter) * FROM quorum.gate_votes WHERE gate = %s"
            " ORDER BY voter, seq DESC) latest ORDER BY at, seq",
            (gate,),
        ).fetchall()
        return tuple(
            Signed(GateVoteAct(gate, environment, voter, approve, at, comment), signature)
            for voter, approve, at, comment, signature in rows
        )

    def answer(self, gate: str) -> GateAnswer | None:
        with self.reading():
            return self._answer(gate)

    def _answer(self, gate: str) -> GateAnswer | None:
        row = self.conn.execute(
            "SELECT decision, state, claimed_by, at, detail FROM quorum.gate_answers "
            "WHERE gate = %s",
            (gate,),
        ).fetchone()
        return None if row is None else GateAnswer(gate, *row)

    def cast(
        self,
        signed: Signed[GateVoteAct],
        decide: Callable[[tuple[Signed[GateVoteAct], ...]], str | None],
    ) -> Cast:
        """Records the vote `signed` as the session's member (their latest replaces the
        earlier one) and claims the decision `decide` takes on the gate's votes, if any."""
        vote = signed.act
        gate = vote.gate
        with self.writing() as conn:
            answer = self._answer(gate)
            if answer is not None and answer.state == SENT:
                raise PolicyRefused(
                    f"{gate} was already answered ({answer.decision}) by {answer.by}"
                )
            conn.execute(
                "SELECT quorum.gate_vote(%s, %s, %s, %s, %s)",
                (gate, vote.approve, vote.at, vote.comment, signed.signature),
            )
            votes = self._votes(gate, vote.environment)
            if answer is not None and vote.at - answer.at < STALE_CLAIM:
                return Cast(votes, None, answer)
            decided = decide(votes)
            if decided is not None:
                row = conn.execute(
                    "SELECT quorum.gate_claim(%s, %s, %s)", (gate, decided, vote.at)
                ).fetchone()
                if not (row and row[0]):
                    return Cast(votes, None, self._answer(gate))
            return Cast(votes, decided, None)

    def finish(self, gate: str, *, sent: bool, detail: str) -> None:
        """Marks this member's claimed answer sent, or drops the claim so a later vote
        retries."""
        with self.writing() as conn:
            conn.execute("SELECT quorum.gate_finish(%s, %s, %s)", (gate, sent, detail))
