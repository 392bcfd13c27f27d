"""`quorum ledger import PATH`: a team's SQLite ledger copied into an empty PostgreSQL one.

The SQLite chain is verified first (a broken one is not carried over as if intact),
then everything is copied in one transaction by the owner: proposals, their signed
acts (signatures kept, so they still verify), action claims, the rotation's
overrides, swaps and sent handoff notices, the votes on providers' approvals (signed
too) with their answers, and the audit records with their signatures. The records
keep their seq, time, author and hashes, so the PostgreSQL chain is the SQLite
chain, its head the file's head, and every later record links to it: history is
never lost, and a head kept elsewhere still pins it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from console.domain.errors import QuorumError, UsageError
from console.store.audit import AuditLog
from console.store.db import from_text, maybe_from_text

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
    schedule: int  # rotation overrides, swaps and handoff notices
    gate_votes: int


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
            schedule = _copy_schedule(source, conn)
            gate_votes = _copy_gates(source, conn)
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
    finally:
        source.close()
    return Imported(proposals, acts, claims, records, head, schedule, gate_votes)


def _require_empty(conn: psycopg.Connection) -> None:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM quorum.proposals) + "
        "(SELECT count(*) FROM quorum.audit_log) + (SELECT count(*) FROM quorum.action_claims) + "
        "(SELECT count(*) FROM quorum.rotation_overrides) + "
        "(SELECT count(*) FROM quorum.rotation_swaps) + (SELECT count(*) FROM quorum.gate_votes)"
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


def _copy_schedule(source: sqlite3.Connection, conn: psycopg.Connection) -> int:
    """Overrides and swaps as they stand (cancelled, taken or withdrawn included), and
    the handoff notices already sent, so none is sent again. Who sent an imported
    notice is not in the file: its claimer is left empty."""
    overrides = _copy(
        source,
        conn,
        "SELECT id, rotation, who, starts_at, ends_at, reason, created_by, created_at, "
        "cancelled_at, cancelled_by FROM rotation_overrides ORDER BY created_at",
        "INSERT INTO quorum.rotation_overrides VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        lambda r: (*r[:3], from_text(r[3]), from_text(r[4]), r[5], r[6], from_text(r[7]),
                   maybe_from_text(r[8]), r[9]),
    )  # fmt: skip
    swaps = _copy(
        source,
        conn,
        "SELECT id, rotation, requested_by, starts_at, ends_at, reason, requested_at, "
        "taken_by, taken_at, withdrawn_at FROM rotation_swaps ORDER BY requested_at",
        "INSERT INTO quorum.rotation_swaps VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        lambda r: (*r[:3], from_text(r[3]), from_text(r[4]), r[5], from_text(r[6]), r[7],
                   maybe_from_text(r[8]), maybe_from_text(r[9])),
    )  # fmt: skip
    notices = _copy(
        source,
        conn,
        "SELECT rotation, handoff_at, holder, sent_at FROM rotation_notices",
        "INSERT INTO quorum.rotation_notices VALUES (%s, %s, %s, %s, '')",
        lambda r: (r[0], from_text(r[1]), r[2], from_text(r[3])),
    )
    return overrides + swaps + notices


def _copy_gates(source: sqlite3.Connection, conn: psycopg.Connection) -> int:
    """Each voter's vote with its signature (it still verifies: the same gate, voter,
    choice, time and comment), and each gate's answer, sent or being sent."""
    votes = _copy(
        source,
        conn,
        "SELECT gate, voter, approve, at, comment, signature FROM gate_votes ORDER BY at",
        "INSERT INTO quorum.gate_votes (gate, voter, approve, at, comment, signature) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        lambda r: (r[0], r[1], bool(r[2]), from_text(r[3]), r[4], r[5] or ""),
    )
    _copy(
        source,
        conn,
        "SELECT gate, decision, state, by, at, detail FROM gate_answers",
        "INSERT INTO quorum.gate_answers VALUES (%s, %s, %s, %s, %s, %s)",
        lambda r: (*r[:4], from_text(r[4]), r[5]),
    )
    return votes


def acts_by_author(conn: psycopg.Connection) -> dict[str, int]:
    """How many proposal acts each author has on the ledger: after an import, those of
    names outside the team are kept but never count, which the owner should hear."""
    rows = conn.execute(
        "SELECT author, count(*) FROM quorum.proposal_acts GROUP BY author ORDER BY author"
    ).fetchall()
    return {str(author): int(n) for author, n in rows}
