"""A hostile member with write access to the shared file and plain sqlite3, nothing else.

Standard library only, so the tests can run it as another OS account under the
system's own Python, with no access to Quorum's code or to anyone's keys:

    python3 forger.py DB append-audit WHO ACTION [COMMENT]
    python3 forger.py DB delete-audit SEQ          (and re-hash every record after it)
    python3 forger.py DB delete-audit-of WHO ACTION KEY   (the same, found by content)
    python3 forger.py DB insert-vote PROPOSAL VOTER approve|reject [COPY_SIGNATURE_OF]
    python3 forger.py DB insert-gate-vote GATE VOTER approve|reject [COPY_SIGNATURE_OF]
    python3 forger.py DB set-state PROPOSAL STATE
    python3 forger.py DB delete-vote PROPOSAL VOTER

It recomputes hashes exactly as Quorum does (SHA-256 of the compact JSON array of
the fields seq .. prev_hash), drops the triggers that stand in its way and moves
the chain head, as anyone reading Quorum's source could.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from datetime import datetime, timezone

FIELDS = "seq, ts, who, action, target, environment, revision, outcome, comment, key"
ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
TRIGGERS = (
    "audit_log_no_update",
    "audit_log_no_delete",
    "audit_log_append_only",
    "audit_log_advance_head",
    "audit_head_no_delete",
    "audit_head_forward_only",
    "audit_signatures_no_update",
    "audit_signatures_no_delete",
    "proposal_acts_no_update",
    "proposal_acts_no_delete",
)


def digest(fields: list[object]) -> str:
    return hashlib.sha256(ENCODER.encode(fields).encode()).hexdigest()


def now() -> str:
    # timezone.utc, not datetime.UTC: the system Python the forger runs under may predate 3.11.
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")[:-6] + "Z"  # noqa: UP017


def drop_triggers(db: sqlite3.Connection) -> None:
    for name in TRIGGERS:
        db.execute(f"DROP TRIGGER IF EXISTS {name}")


def append_audit(db: sqlite3.Connection, who: str, action: str, comment: str = "") -> None:
    seq, prev = db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    fields = [seq + 1, now(), who, action, "", "", "", "recorded", comment, "", prev]
    db.execute(
        f"INSERT INTO audit_log ({FIELDS}, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (*fields, digest(fields)),
    )


def delete_audit(db: sqlite3.Connection, seq: int) -> None:
    """Removes record `seq` and rebuilds a consistent chain after it."""
    drop_triggers(db)
    db.execute("DELETE FROM audit_log WHERE seq = ?", (seq,))
    db.execute("DELETE FROM audit_signatures WHERE seq = ?", (seq,))
    rows = db.execute(f"SELECT {FIELDS} FROM audit_log WHERE seq > ? ORDER BY seq", (seq,))
    later = rows.fetchall()
    prev = db.execute("SELECT hash FROM audit_log WHERE seq = ?", (seq - 1,)).fetchone()
    prev_hash = prev[0] if prev else "0" * 64
    for row in later:
        fields = [row[0] - 1, *row[1:], prev_hash]
        new = digest(fields)
        db.execute("DELETE FROM audit_log WHERE seq = ?", (row[0],))
        db.execute(
            f"INSERT INTO audit_log ({FIELDS}, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (*fields, new),
        )
        db.execute("UPDATE audit_signatures SET seq = seq - 1 WHERE seq = ?", (row[0],))
        prev_hash = new
    last = db.execute("SELECT max(seq) FROM audit_log").fetchone()[0] or 0
    db.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (last, prev_hash))


def main(argv: list[str]) -> None:
    path, command, *rest = argv
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    if command == "append-audit":
        append_audit(db, *rest)
    elif command == "delete-audit":
        delete_audit(db, int(rest[0]))
    elif command == "delete-audit-of":
        who, action, key = rest
        (seq,) = db.execute(
            "SELECT max(seq) FROM audit_log WHERE who = ? AND action = ? AND key = ?",
            (who, action, key),
        ).fetchone()
        delete_audit(db, seq)
    elif command == "insert-vote":
        pid, voter, choice, *copied = rest
        version = (
            db.execute(
                "SELECT max(json_extract(body, '$.version')) FROM proposal_acts "
                "WHERE proposal_id = ? AND kind = 'amend'",
                (int(pid),),
            ).fetchone()[0]
            or 1
        )
        signature = ""
        if copied:  # a real member's signature, replayed under another name
            (signature,) = db.execute(
                "SELECT signature FROM proposal_acts WHERE proposal_id = ? AND author = ? "
                "AND kind = 'vote'",
                (int(pid), copied[0]),
            ).fetchone()
        body = {"approve": choice == "approve", "comment": "", "version": version}
        db.execute(
            "INSERT INTO proposal_acts (proposal_id, kind, author, at, body, signature) "
            "VALUES (?, 'vote', ?, ?, ?, ?)",
            (int(pid), voter, now(), json.dumps(body, sort_keys=True), signature),
        )
    elif command == "insert-gate-vote":
        gate, voter, choice, *copied = rest
        signature = ""
        if copied:  # a real member's signature on this gate, replayed under another name
            (signature,) = db.execute(
                "SELECT signature FROM gate_votes WHERE gate = ? AND voter = ?",
                (gate, copied[0]),
            ).fetchone()
        db.execute(
            "INSERT OR REPLACE INTO gate_votes (gate, voter, approve, at, comment, signature) "
            "VALUES (?, ?, ?, ?, '', ?)",
            (gate, voter, int(choice == "approve"), now(), signature),
        )
    elif command == "set-state":
        pid, state = rest
        db.execute("UPDATE proposals SET state = ? WHERE id = ?", (state, int(pid)))
    elif command == "delete-vote":
        pid, voter = rest
        drop_triggers(db)
        db.execute(
            "DELETE FROM proposal_acts WHERE proposal_id = ? AND author = ? AND kind = 'vote'",
            (int(pid), voter),
        )
    else:
        raise SystemExit(f"unknown command {command}")
    db.execute("COMMIT")
    db.close()


if __name__ == "__main__":
    main(sys.argv[1:])
