"""`quorum ledger import PATH`: a team's SQLite ledger copied into an empty PostgreSQL one.

The SQLite chain is verified first (a broken one is not carried over as if intact),
then everything is copied in one transaction by the owner: proposals, their signed
acts (signatures kept, so they still verify), action claims and the audit records
with their signatures. The records keep their seq, time, author and hashes, so the
PostgreSQL chain is the SQLite chain, its head the file's head, and every later
record links to it: history is never lost, and a head kept elsewhere still pins it.

Rotation changes and provider-approval votes are not copied (the PostgreSQL ledger
does not keep them yet); the result says how many stay in the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from console.domain.errors import QuorumError, UsageError
from console.store.audit import AuditLog
from console.store.db import from_text

if TYPE_CHECKING:
    import psycopg

_BATCH = 1000


@dataclass(frozen=True)
class Imported:
    proposals: int
    acts: int
    claims: int
    records: int
    head: tuple[int, str]
    left: dict[str, int]  # what stays in the file, by table


def import_sqlite(conn: psycopg.Connection, path: Path) -> Imported:
    """Copies the ledger at `path` into the empty ledger on `conn` (the owner's)."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    with AuditLog(path, signer=None) as log:
        result = log.verify()
        head = log.head()
    if not result.ok:
        raise QuorumError(
            f"{path}: the audit chain fails verification ({result.reason}); nothing was imported"
        )
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        with conn.transaction():
            _require_empty(conn)
            proposals = _copy_proposals(source, conn)
            acts = _copy(
                source,
                conn,
                "SELECT proposal_id, kind, author, at, body, signature FROM proposal_acts "
                "ORDER BY seq",
                "INSERT INTO quorum.proposal_acts (proposal_id, kind, author, at, body, "
                "signature) VALUES (%s, %s, %s, %s, %s, %s)",
                lambda r: (r[0], r[1], r[2], from_text(r[3]), r[4], r[5] or ""),
            )
            claims = _copy(
                source,
                conn,
                "SELECT key, action, who, provider, service, environment, target, revision, "
                "proposal_id, started_at, outcome, finished_at, detail, owner_host, "
                "owner_pid, owner_start FROM action_claims",
                "INSERT INTO quorum.action_claims VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                lambda r: (
                    *r[:9],
                    from_text(r[9]),
                    r[10],
                    None if r[11] is None else from_text(r[11]),
                    r[12],
                    r[13] or "",
                    r[14],
                    r[15] or "",
                ),
            )
            records = _copy(
                source,
                conn,
                "SELECT seq, ts, who, action, target, environment, revision, outcome, "
                "comment, key, prev_hash, hash FROM audit_log ORDER BY seq",
                "INSERT INTO quorum.audit_log VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                tuple,
            )
            _copy(
                source,
                conn,
                "SELECT seq, signature FROM audit_signatures ORDER BY seq",
                "INSERT INTO quorum.audit_signatures VALUES (%s, %s)",
                tuple,
            )
            conn.execute("UPDATE quorum.audit_head SET seq = %s, hash = %s", head)
            conn.execute(
                "SELECT setval('quorum.proposals_id_seq', greatest(1, "
                "(SELECT coalesce(max(id), 0) FROM quorum.proposals)), "
                "(SELECT count(*) > 0 FROM quorum.proposals))"
            )
            for (pid,) in conn.execute("SELECT id FROM quorum.proposals").fetchall():
                conn.execute(
                    "UPDATE quorum.proposals SET state = quorum.proposal_state(%s) WHERE id = %s",
                    (pid, pid),
                )
        left = {
            t: _count(source, t) for t in ("rotation_overrides", "rotation_swaps", "gate_votes")
        }
    finally:
        source.close()
    return Imported(proposals, acts, claims, records, head, {k: v for k, v in left.items() if v})


def _require_empty(conn: psycopg.Connection) -> None:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM quorum.proposals) + "
        "(SELECT count(*) FROM quorum.audit_log) + (SELECT count(*) FROM quorum.action_claims)"
    ).fetchone()
    if row is None or row[0]:
        raise UsageError(
            "the PostgreSQL ledger is not empty: an import goes into a ledger just made "
            "by `quorum ledger init`, so two histories are never interleaved"
        )


def _copy_proposals(source: sqlite3.Connection, conn: psycopg.Connection) -> int:
    return _copy(
        source,
        conn,
        "SELECT id, kind, provider, service, environment, target, revision, replicas, "
        "proposer, reason, created_at, state FROM proposals ORDER BY id",
        "INSERT INTO quorum.proposals (id, kind, provider, service, environment, target, "
        "revision, replicas, proposer, reason, created_at, state) VALUES "
        "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        lambda r: (*r[:10], from_text(r[10]), r[11]),
    )


def _copy(
    source: sqlite3.Connection,
    conn: psycopg.Connection,
    select: str,
    insert: str,
    convert: Callable[[tuple], tuple],
) -> int:
    """Every row of `select` (none when the table does not exist), converted and
    inserted in batches."""
    try:
        cursor = source.execute(select)
    except sqlite3.OperationalError:
        return 0  # a table this file never had (a ledger older than it)
    copied = 0
    with conn.cursor() as out:
        while rows := cursor.fetchmany(_BATCH):
            out.executemany(insert, [convert(r) for r in rows])
            copied += len(rows)
    return copied


def _count(source: sqlite3.Connection, table: str) -> int:
    try:
        return int(source.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
