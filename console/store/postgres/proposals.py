"""Proposals and their acts on the PostgreSQL ledger, with the SQLite stores' interface.

The same acts, signed the same way, derived by the same rules on every read
(`console.engine.ledger`). What the server adds: each act is written by
`quorum.propose` or `quorum.add_act`, which take the author from the session user,
and the `state` column is the server's own count (rewritten by its functions, never
by a client), kept for listings as SQLite's cache is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from console.domain.acts import ProposalAct
from console.domain.consensus import Kind, Proposal, State
from console.domain.derive import Facts, Signed
from console.domain.errors import UsageError
from console.domain.model import TargetRef
from console.store.acts import _KIND, body, gather
from console.store.postgres.base import PgStore

_ROW = (
    "p.id, p.kind, p.provider, p.service, p.environment, p.target, p.revision, p.replicas, "
    "p.proposer, p.reason, p.created_at, p.state, "
    "greatest(p.created_at, (SELECT max(a.at) FROM quorum.proposal_acts a "
    "WHERE a.proposal_id = p.id)) AS updated_at"
)


def _proposal(row: tuple) -> Proposal:
    pid, kind, provider, service, env, target, revision, replicas, proposer, reason = row[:10]
    created, state, updated = row[10:]
    return Proposal(
        id=int(pid),
        kind=Kind(kind),
        ref=TargetRef(provider, service, env, target),
        revision=revision,
        proposer=proposer,
        reason=reason,
        created_at=created,
        updated_at=updated,
        state=State(state),
        replicas=replicas,
    )


class PgProposalStore(PgStore):
    """The proposals' rows; `insert` only takes an id (the row is written with the
    proposal's act, by the server), `put` asks the server to count again."""

    def version(self) -> tuple[int, int]:
        """Moves whenever an act, a proposal or an outcome is written by anyone."""
        with self.reading() as conn:
            row = conn.execute(
                "SELECT (SELECT coalesce(max(seq), 0) FROM quorum.proposal_acts), "
                "(SELECT count(*) FROM quorum.action_claims WHERE outcome <> '')"
            ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def insert(self, draft: Proposal) -> Proposal:
        """`draft` with a new id from the server, inside the caller's `writing()`."""
        row = self.conn.execute("SELECT quorum.next_proposal_id()").fetchone()
        assert row is not None
        return replace(draft, id=int(row[0]))

    def create(self, draft: Proposal) -> Proposal:
        with self.writing():
            return self.insert(draft)

    def put(self, p: Proposal) -> None:
        """The server keeps the listing's state itself; a moved one (expired since) is
        counted again there."""
        self.conn.execute("SELECT quorum.refresh_state(%s)", (p.id,))

    def ids(self) -> list[int]:
        with self.reading() as conn:
            return [r[0] for r in conn.execute("SELECT id FROM quorum.proposals ORDER BY id")]

    def get(self, pid: int) -> Proposal:
        found = self._select("p.id = %s", [pid])
        if not found:
            raise UsageError(f"no proposal {pid}; `quorum approvals` lists the open ones")
        return found[0]

    def list(self, states: Iterable[State] | None = None) -> list[Proposal]:
        if states is None:
            return self._select(None, [])
        return self._select("p.state = ANY(%s)", [[s.value for s in states]])

    def states(self, states: Iterable[State]) -> dict[int, State]:
        """The id and listed state of each proposal in `states`, oldest first."""
        by_value = {s.value: s for s in states}  # looked up, not `State(...)` for each row
        with self.reading() as conn:
            rows = conn.execute(
                "SELECT id, state FROM quorum.proposals WHERE state = ANY(%s) ORDER BY id",
                (list(by_value),),
            ).fetchall()
        return {int(pid): by_value[state] for pid, state in rows}

    def twins(self, draft: Proposal, states: Iterable[State]) -> list[int]:
        """The ids of the proposals in `states` that may ask for the change `draft` asks
        for, oldest first: the same kind, target and replica count, and the same revision
        or an amendment (the server's row keeps the revision as proposed)."""
        ref = draft.ref
        with self.reading() as conn:
            rows = conn.execute(
                "SELECT p.id FROM quorum.proposals p WHERE p.state = ANY(%s) AND p.kind = %s "
                "AND p.provider = %s AND p.service = %s AND p.environment = %s "
                "AND p.target = %s AND p.replicas IS NOT DISTINCT FROM %s "
                "AND (p.revision = %s OR EXISTS (SELECT 1 FROM quorum.proposal_acts a "
                "WHERE a.proposal_id = p.id AND a.kind = 'amend')) ORDER BY p.id",
                (
                    [s.value for s in states],
                    draft.kind.value,
                    ref.provider,
                    ref.service,
                    ref.environment,
                    ref.target,
                    draft.replicas,
                    draft.revision,
                ),
            ).fetchall()
        return [int(row[0]) for row in rows]

    def settled_since(self, states: Iterable[State], since: datetime, limit: int) -> list[Proposal]:
        rows = self._select(
            "p.state = ANY(%s)", [[s.value for s in states]], "updated_at DESC", limit
        )
        return [p for p in rows if p.updated_at >= since]

    def _select(
        self, where: str | None, params: list, order: str = "p.id", limit: int | None = None
    ) -> list[Proposal]:
        sql = f"SELECT {_ROW} FROM quorum.proposals p" + (f" WHERE {where}" if where else "")
        sql += f" ORDER BY {order}" + ("" if limit is None else f" LIMIT {int(limit)}")
        with self.reading() as conn:
            return [_proposal(row) for row in conn.execute(sql, params)]


class PgActStore:
    """Reads and appends acts through the proposals' store connection and transactions."""

    def __init__(self, store: PgProposalStore) -> None:
        self.store = store

    def add(self, signed: Signed) -> None:
        act = signed.act
        text = json.dumps(body(act), ensure_ascii=False, sort_keys=True)
        if isinstance(act, ProposalAct):
            c = act.content
            self.store.conn.execute(
                "SELECT quorum.propose(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    c.id,
                    c.kind.value,
                    c.ref.provider,
                    c.ref.service,
                    c.ref.environment,
                    c.ref.target,
                    c.revision,
                    c.replicas,
                    act.reason,
                    act.at,
                    text,
                    signed.signature,
                ),
            )
            return
        self.store.conn.execute(
            "SELECT quorum.add_act(%s, %s, %s, %s, %s)",
            (act.proposal_id, _KIND[type(act)], act.at, text, signed.signature),
        )

    def made_before_acts(self, pid: int) -> bool:
        """Never on PostgreSQL: every proposal there was made with its act (an import
        carries a file's legacy proposals, which then read as invalid: neither counts)."""
        del pid
        return False

    def ids_with(self, kind: str) -> list[int]:
        with self.store.reading() as conn:
            rows = conn.execute(
                "SELECT DISTINCT proposal_id FROM quorum.proposal_acts WHERE kind = %s", (kind,)
            )
            return [int(pid) for (pid,) in rows]

    def facts(self, pids: Iterable[int]) -> dict[int, Facts]:
        """As `console.store.acts.ActStore.facts`: unreadable rows prove nothing."""
        ids = sorted(set(pids))
        with self.store.reading() as conn:
            rows = conn.execute(
                "SELECT proposal_id, kind, author, at, body, signature FROM "
                "quorum.proposal_acts WHERE proposal_id = ANY(%s) ORDER BY seq",
                (ids,),
            ).fetchall()
        return gather(rows, lambda at: at)
