"""Proposals and votes as last derived, cached in the shared SQLite file beside the audit log.

The rows give each proposal its id and let listings find the live ones; their state
and votes are a cache of what `console.engine.ledger` derives from the signed acts
(`console.store.acts`), rewritten under the write lock with each act, and never
believed by a read or an execution.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from console.domain.consensus import Kind, Proposal, State, Vote
from console.domain.errors import UsageError
from console.domain.model import TargetRef
from console.store.db import connect, immediate

_SCHEMA = """
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
);
CREATE INDEX IF NOT EXISTS proposals_state ON proposals(state);
CREATE TABLE IF NOT EXISTS proposal_votes (
    proposal_id INTEGER NOT NULL REFERENCES proposals(id),
    voter TEXT NOT NULL,
    approve INTEGER NOT NULL,
    at TEXT NOT NULL,
    revision TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (proposal_id, voter)
);
"""

_COLUMNS = (
    "kind, provider, service, environment, target, revision, replicas, proposer, reason, "
    "created_at, updated_at, state, override_by, override_reason, override_at, reviewed_by, "
    "reviewed_at, review_comment, detail"
)


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def parse_id(text: str) -> int:
    """A proposal id as people type it: `12` or `#12`."""
    cleaned = text.strip().lstrip("#")
    if not cleaned.isdigit():
        raise UsageError(f"not a proposal id: {text!r} (ids are numbers, e.g. 12)")
    return int(cleaned)


class ProposalStore:
    """The cached rows: `create` allocates an id, `put` rewrites a row with a derived state."""

    def __init__(self, path: Path) -> None:
        self.db = connect(path)
        self.conn = self.db.conn
        self.conn.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def _values(self, p: Proposal) -> tuple[object, ...]:
        return (
            p.kind.value,
            p.ref.provider,
            p.ref.service,
            p.ref.environment,
            p.ref.target,
            p.revision,
            p.replicas,
            p.proposer,
            p.reason,
            _ts(p.created_at),
            _ts(p.updated_at),
            p.state.value,
            p.override_by,
            p.override_reason,
            _ts(p.override_at),
            p.reviewed_by,
            _ts(p.reviewed_at),
            p.review_comment,
            p.detail,
        )

    def create(self, draft: Proposal) -> Proposal:
        """Stores `draft` (its id is ignored) with its votes; returns it with its new id."""
        marks = ", ".join("?" * len(self._values(draft)))
        with immediate(self.conn):
            cur = self.conn.execute(
                f"INSERT INTO proposals ({_COLUMNS}) VALUES ({marks})", self._values(draft)
            )
            created = replace(draft, id=int(cur.lastrowid or 0))
            self._write_votes(created.id, created.votes)
        return created

    def put(self, p: Proposal) -> None:
        """Overwrites the cached row of `p` (and its votes) with a state derived elsewhere.

        The row is a cache for listings: where the team signs its acts, every read
        derives the state again from the acts and never believes this row.
        """
        sets = ", ".join(f"{c.strip()} = ?" for c in _COLUMNS.split(","))
        self.conn.execute(f"UPDATE proposals SET {sets} WHERE id = ?", (*self._values(p), p.id))
        self.conn.execute("DELETE FROM proposal_votes WHERE proposal_id = ?", (p.id,))
        self._write_votes(p.id, p.votes)

    def ids(self) -> list[int]:
        """Every proposal's id, oldest first."""
        return [row[0] for row in self.conn.execute("SELECT id FROM proposals ORDER BY id")]

    def _write_votes(self, pid: int, votes: Iterable[Vote]) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO proposal_votes (proposal_id, voter, approve, at, revision, "
            "comment) VALUES (?, ?, ?, ?, ?, ?)",
            [(pid, v.voter, int(v.approve), _ts(v.at), v.revision, v.comment) for v in votes],
        )

    def get(self, pid: int) -> Proposal:
        return self._load(pid)

    def _load(self, pid: int) -> Proposal:
        row = self.conn.execute(
            f"SELECT id, {_COLUMNS} FROM proposals WHERE id = ?", (pid,)
        ).fetchone()
        if row is None:
            raise UsageError(f"no proposal {pid}")
        return self._build(row, self._votes([pid]).get(pid, ()))

    def list(self, states: Iterable[State] | None = None) -> list[Proposal]:
        """Proposals in `states` (all when None), oldest first."""
        query = f"SELECT id, {_COLUMNS} FROM proposals"
        params: list[str] = []
        if states is not None:
            wanted = [s.value for s in states]
            query += f" WHERE state IN ({', '.join('?' * len(wanted))})"
            params = wanted
        rows = self.conn.execute(query + " ORDER BY id", params).fetchall()
        votes = self._votes([r[0] for r in rows])
        return [self._build(r, votes.get(r[0], ())) for r in rows]

    def _votes(self, ids: list[int]) -> dict[int, tuple[Vote, ...]]:
        if not ids:
            return {}
        found: dict[int, list[Vote]] = {}
        marks = ", ".join("?" * len(ids))
        for pid, voter, approve, at, revision, comment in self.conn.execute(
            "SELECT proposal_id, voter, approve, at, revision, comment FROM proposal_votes "
            f"WHERE proposal_id IN ({marks}) ORDER BY at, voter",
            ids,
        ):
            found.setdefault(pid, []).append(
                Vote(voter, bool(approve), datetime.fromisoformat(at), revision, comment)
            )
        return {pid: tuple(v) for pid, v in found.items()}

    @staticmethod
    def _build(row: tuple, votes: tuple[Vote, ...]) -> Proposal:
        (pid, kind, provider, service, environment, target, revision, replicas, proposer) = row[:9]
        (reason, created, updated, state, o_by, o_reason, o_at, r_by, r_at) = row[9:18]
        (r_comment, detail) = row[18:]
        return Proposal(
            id=pid,
            kind=Kind(kind),
            ref=TargetRef(provider, service, environment, target),
            revision=revision,
            proposer=proposer,
            reason=reason,
            created_at=datetime.fromisoformat(created),
            updated_at=datetime.fromisoformat(updated),
            state=State(state),
            votes=votes,
            replicas=replicas,
            override_by=o_by,
            override_reason=o_reason,
            override_at=_dt(o_at),
            reviewed_by=r_by,
            reviewed_at=_dt(r_at),
            review_comment=r_comment,
            detail=detail,
        )
