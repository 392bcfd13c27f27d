"""Proposals and votes as last derived, cached in the shared SQLite file beside the audit log.

The rows give each proposal its id and let listings find the live ones; their state
and votes are a cache of what `console.engine.ledger` derives from the signed acts
(`console.store.acts`), rewritten under the write lock with each act, and never
believed by a read or an execution.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from console.domain.consensus import Kind, Proposal, State, Vote
from console.domain.errors import UsageError
from console.domain.inert import echo
from console.domain.model import TargetRef
from console.store.db import Store, from_text, maybe_from_text, maybe_to_text, to_text

if TYPE_CHECKING:
    import sqlite_utils

# Raw DDL for `proposals`: AUTOINCREMENT (which sqlite-utils cannot declare) keeps an id
# from ever being reused, so a deleted proposal's audit records never name a new one.
_PROPOSALS = """
CREATE TABLE IF NOT EXISTS proposals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    provider TEXT NOT NULL,
    service TEXT NOT NULL,
    environment TEXT NOT NULL,
    target TEXT NOT NULL,
    revision TEXT NOT NULL,
    replicas INTEGER,
    proposer TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    state TEXT NOT NULL,
    override_by TEXT NOT NULL DEFAULT '',
    override_reason TEXT NOT NULL DEFAULT '',
    override_at TEXT,
    reviewed_by TEXT NOT NULL DEFAULT '',
    reviewed_at TEXT,
    review_comment TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
)
"""


def parse_id(text: str) -> int:
    """A proposal id as people type it: `12` or `#12`."""
    cleaned = text.strip().lstrip("#")
    if not re.fullmatch(r"[0-9]{1,18}", cleaned):  # beyond 18 digits: no SQLite integer
        shown = echo(text)
        raise UsageError(
            f"not a proposal id{f': {shown}' if shown else ''} (ids are numbers, e.g. 12)"
        )
    return int(cleaned)


def _row(p: Proposal) -> dict[str, object]:
    return {
        "kind": p.kind.value,
        "provider": p.ref.provider,
        "service": p.ref.service,
        "environment": p.ref.environment,
        "target": p.ref.target,
        "revision": p.revision,
        "replicas": p.replicas,
        "proposer": p.proposer,
        "reason": p.reason,
        "created_at": to_text(p.created_at),
        "updated_at": to_text(p.updated_at),
        "state": p.state.value,
        "override_by": p.override_by,
        "override_reason": p.override_reason,
        "override_at": maybe_to_text(p.override_at),
        "reviewed_by": p.reviewed_by,
        "reviewed_at": maybe_to_text(p.reviewed_at),
        "review_comment": p.review_comment,
        "detail": p.detail,
    }


def _proposal(row: dict, votes: tuple[Vote, ...]) -> Proposal:
    return Proposal(
        id=row["id"],
        kind=Kind(row["kind"]),
        ref=TargetRef(row["provider"], row["service"], row["environment"], row["target"]),
        revision=row["revision"],
        proposer=row["proposer"],
        reason=row["reason"],
        created_at=from_text(row["created_at"]),
        updated_at=from_text(row["updated_at"]),
        state=State(row["state"]),
        votes=votes,
        replicas=row["replicas"],
        override_by=row["override_by"],
        override_reason=row["override_reason"],
        override_at=maybe_from_text(row["override_at"]),
        reviewed_by=row["reviewed_by"],
        reviewed_at=maybe_from_text(row["reviewed_at"]),
        review_comment=row["review_comment"],
        detail=row["detail"],
    )


# The settled window is read newest first by `updated_at`, and the duplicate check looks
# a change up by its service, environment and revision; files made before these indexes
# gain them on open (`ProposalStore.__init__`).
_INDEXES = {
    "proposals_updated": "CREATE INDEX IF NOT EXISTS proposals_updated ON proposals(updated_at)",
    "proposals_change": "CREATE INDEX IF NOT EXISTS proposals_change "
    "ON proposals(service, environment, revision)",
}


def _create(db: sqlite_utils.Database) -> None:
    db.execute(_PROPOSALS)
    db["proposals"].create_index(["state"], "proposals_state", if_not_exists=True)
    for statement in _INDEXES.values():
        db.execute(statement)
    db["proposal_votes"].create(
        {
            "proposal_id": int,
            "voter": str,
            "approve": int,
            "at": str,
            "revision": str,
            "comment": str,
        },
        pk=("proposal_id", "voter"),
        foreign_keys=[("proposal_id", "proposals", "id")],
        not_null={"proposal_id", "voter", "approve", "at", "revision", "comment"},
        defaults={"comment": ""},
        if_not_exists=True,
    )


class ProposalStore(Store):
    """The cached rows: `create` allocates an id, `put` rewrites a row with a derived state."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.ensure(["proposals", "proposal_votes"], _create)
        self._add_indexes()

    def _add_indexes(self) -> None:
        """Adds the indexes a file made before them lacks; a reader that may not write
        keeps reading without them (the window and the duplicate check then scan,
        still correct)."""
        with self.lock:
            found = {
                row[0]
                for row in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
            }
        missing = [sql for name, sql in _INDEXES.items() if name not in found]
        if missing:
            with contextlib.suppress(sqlite3.OperationalError), self.writing():
                for statement in missing:
                    self.conn.execute(statement)

    def version(self) -> tuple[int, int]:
        """A value that changes whenever the shared file does: SQLite's `data_version`
        (moved by every other connection's commit, this process's other stores included)
        and this connection's own changes (which `data_version` does not count)."""
        with self.lock:
            (data_version,) = self.conn.execute("PRAGMA data_version").fetchone()
            return data_version, self.conn.total_changes

    def create(self, draft: Proposal) -> Proposal:
        """Stores `draft` (its id is ignored) with its votes; returns it with its new id."""
        with self.writing():
            return self.insert(draft)

    def insert(self, draft: Proposal) -> Proposal:
        """`create` inside the caller's `writing()`, so what the caller checked before
        still holds when the row is written."""
        pid = self.db["proposals"].insert(_row(draft)).last_pk
        created = replace(draft, id=int(pid or 0))
        self._write_votes(created.id, created.votes)
        return created

    def put(self, p: Proposal) -> None:
        """Overwrites the cached row of `p` (and its votes) with a state derived elsewhere;
        inside the caller's `writing()`.

        The row is a cache for listings: every read derives the state again from the
        acts (`console.engine.ledger`) and never believes this row.
        """
        self.db["proposals"].update(p.id, _row(p))
        self.conn.execute("DELETE FROM proposal_votes WHERE proposal_id = ?", (p.id,))
        self._write_votes(p.id, p.votes)

    def ids(self) -> list[int]:
        """Every proposal's id, oldest first."""
        with self.lock:
            return [row[0] for row in self.conn.execute("SELECT id FROM proposals ORDER BY id")]

    def _write_votes(self, pid: int, votes: Iterable[Vote]) -> None:
        self.db["proposal_votes"].insert_all(
            (
                {
                    "proposal_id": pid,
                    "voter": v.voter,
                    "approve": int(v.approve),
                    "at": to_text(v.at),
                    "revision": v.revision,
                    "comment": v.comment,
                }
                for v in votes
            ),
            replace=True,
        )

    def get(self, pid: int) -> Proposal:
        with self.lock:
            return self._load(pid)

    def _load(self, pid: int) -> Proposal:
        found = self._select("id = ?", [pid])
        if not found:
            raise UsageError(f"no proposal {pid} ({self._range()})")
        return found[0]

    def _range(self) -> str:
        """Which ids exist, for the line that says an id does not: a mistyped id is
        usually a neighbour, and the list of open ones is one command away."""
        newest = self.conn.execute("SELECT MAX(id) FROM proposals").fetchone()[0]
        if newest is None:
            return "none has been made yet"
        made = "there is only proposal 1" if newest == 1 else f"ids run from 1 to {newest}"
        return f"{made}; `quorum approvals` lists the open ones"

    def list(self, states: Iterable[State] | None = None) -> list[Proposal]:
        """Proposals in `states` (all when None), oldest first."""
        with self.lock:
            if states is None:
                return self._select(None, [])
            wanted = [s.value for s in states]
            return self._select(f"state IN ({', '.join('?' * len(wanted))})", wanted)

    def states(self, states: Iterable[State]) -> dict[int, State]:
        """The id and cached state of each row in `states`, oldest first: what picks the
        candidates for a derivation, without reading the rest of the rows and their votes
        (which the derivation rebuilds from the acts anyway)."""
        by_value = {s.value: s for s in states}  # looked up, not `State(...)` 10,000 times
        sql = f"SELECT id, state FROM proposals WHERE state IN ({', '.join('?' * len(by_value))})"
        with self.lock:
            rows = self.conn.execute(sql + " ORDER BY id", list(by_value)).fetchall()
        return {pid: by_value[state] for pid, state in rows}

    def twins(self, draft: Proposal, states: Iterable[State]) -> list[int]:
        """The ids of the rows in `states` that ask for the change `draft` asks for (the
        same kind, target, revision and replica count), oldest first: the candidates of
        the duplicate check, which derives each from its acts. A row holds the revision
        its proposal last derived to (rewritten with each amendment, under the same lock),
        so a proposal amended to this revision is among them."""
        wanted = [s.value for s in states]
        ref = draft.ref
        sql = (
            f"SELECT id FROM proposals WHERE state IN ({', '.join('?' * len(wanted))}) "
            "AND kind = ? AND provider = ? AND service = ? AND environment = ? AND target = ? "
            "AND revision = ? AND replicas IS ? ORDER BY id"
        )
        params = [
            *wanted,
            draft.kind.value,
            ref.provider,
            ref.service,
            ref.environment,
            ref.target,
            draft.revision,
            draft.replicas,
        ]
        with self.lock:
            return [row[0] for row in self.conn.execute(sql, params)]

    def settled_since(self, states: Iterable[State], since: datetime, limit: int) -> list[Proposal]:
        """At most `limit` rows in `states` updated at `since` or later, newest first.

        The window and the limit are SQL's (on the `updated_at` index), so a long history
        costs a refresh nothing: rows older than the window are never read.
        """
        wanted = [s.value for s in states]
        where = f"state IN ({', '.join('?' * len(wanted))}) AND updated_at >= ?"
        with self.lock:
            return self._select(where, [*wanted, to_text(since)], "updated_at DESC", limit)

    def _select(
        self, where: str | None, params: list, order: str = "id", limit: int | None = None
    ) -> list[Proposal]:
        rows = self._rows(where, params, order, limit)
        votes = self._votes([r["id"] for r in rows])
        return [_proposal(r, votes.get(r["id"], ())) for r in rows]

    def _rows(self, where: str | None, params: list, order: str, limit: int | None) -> list[dict]:
        """The matching rows as dicts, in one raw query (listings read thousands)."""
        sql = "SELECT * FROM proposals" + (f" WHERE {where}" if where else "")
        sql += f" ORDER BY {order}" + ("" if limit is None else f" LIMIT {int(limit)}")
        cursor = self.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def _votes(self, ids: list[int]) -> dict[int, tuple[Vote, ...]]:
        if not ids:
            return {}
        found: dict[int, list[Vote]] = {}
        marks = ", ".join("?" * len(ids))
        for row in self.db["proposal_votes"].rows_where(
            f"proposal_id IN ({marks})", ids, order_by="at, voter"
        ):
            found.setdefault(row["proposal_id"], []).append(
                Vote(
                    row["voter"],
                    bool(row["approve"]),
                    from_text(row["at"]),
                    row["revision"],
                    row["comment"],
                )
            )
        return {pid: tuple(v) for pid, v in found.items()}
