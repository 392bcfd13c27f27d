"""The tamper-evident audit log every act of Quorum lands in.

One SQLite file (shared by every console on a bastion, through `console.store.db.connect`)
holds the table `audit_log`. Each record is one transaction, taken with
`BEGIN IMMEDIATE` before the previous hash is read, so concurrent writers queue
instead of forking the chain. Triggers refuse UPDATE and DELETE, and each record
stores the SHA-256 of the previous one (see `_digest` for the exact encoding), so
`verify` names the first record that was edited, deleted, inserted or reordered,
even when the triggers were dropped first.

A chain alone cannot show that its newest records were cut off, so the table
`audit_head` keeps the last seq and hash, advanced by a trigger in the same
transaction as each insert and guarded by triggers of its own. Truncating the log
undetectably then needs the head rewritten too. A non-empty log without a head
fails verification and refuses appends: Quorum does not act on a log it cannot
vouch for. The hashes are not keyed: whoever can write the file can rebuild a
consistent chain from scratch. Verification proves the log was not altered behind
Quorum's back by anyone who did not also recompute every later hash and the head;
the newest hash copied elsewhere (an export, a ticket) pins everything up to it.

Secrets never enter the log: `append` neutralises control characters and refuses
nothing else, so callers never pass tokens, URLs holding tokens, or credentials.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from console.domain.acts import audit_message
from console.domain.errors import QuorumError
from console.domain.inert import UNSAFE, neutralise
from console.domain.signers import AllowedSigners
from console.store import audit_signatures
from console.store.audit_signatures import RecordSigner
from console.store.db import Store, from_text, immediate, rollback, to_text
from console.store.files import blocked, denied

GENESIS = "0" * 64  # the prev_hash of record 1

_FIELDS = (
    "seq",
    "ts",
    "who",
    "action",
    "target",
    "environment",
    "revision",
    "outcome",
    "comment",
    "key",
    "prev_hash",
    "hash",
)
_COLUMNS = ", ".join(_FIELDS)
# A record's fields and its author's signature ("" or NULL when it has none).
_SIGNED_COLUMNS = ", ".join(f"l.{name}" for name in _FIELDS) + ", s.signature"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    environment TEXT NOT NULL DEFAULT '',
    revision TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    key TEXT NOT NULL DEFAULT '',
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT OR IGNORE INTO audit_head (id, seq, hash)
SELECT 1, 0, '{GENESIS}' WHERE NOT EXISTS (SELECT 1 FROM audit_log);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_append_only BEFORE INSERT ON audit_log
WHEN NEW.seq IS NOT (SELECT seq + 1 FROM audit_head WHERE id = 1)
  OR NEW.prev_hash IS NOT (SELECT hash FROM audit_head WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: insert does not extend the chain'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_advance_head AFTER INSERT ON audit_log
BEGIN UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, 'audit_head cannot be deleted'); END;
CREATE TRIGGER IF NOT EXISTS audit_head_forward_only BEFORE UPDATE ON audit_head
WHEN NEW.seq IS NOT OLD.seq + 1
  OR NEW.hash IS NOT (SELECT hash FROM audit_log WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'audit_head only follows the log'); END;
{audit_signatures.SCHEMA}
"""

_SCHEMA_OBJECTS = (
    "audit_log",
    "audit_head",
    "audit_log_no_update",
    "audit_log_no_delete",
    "audit_log_append_only",
    "audit_log_advance_head",
    "audit_head_no_delete",
    "audit_head_forward_only",
    *audit_signatures.OBJECTS,
)

# The person this process acts as signs every record it appends, whichever module
# opens the log (actions, rotation changes, notifications): set once at start-up
# where the team has keys (`sign_records`), None where it has none.
_process_signer: RecordSigner | None = None


def sign_records(signer: RecordSigner | None) -> None:
    """Every AuditLog opened afterwards in this process signs its appends with `signer`."""
    global _process_signer
    _process_signer = signer


# One encoder, built once: verify hashes every record and must stay close to a plain scan.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class AuditError(QuorumError):
    """The audit file cannot be opened or written (not a database, no permission...)."""


def _digest(fields: tuple[object, ...]) -> str:
    """SHA-256 (hex) of the UTF-8 JSON array of a record's fields, `seq` .. `prev_hash`.

    A JSON array with no whitespace and non-ASCII left as is: positional, so no field
    can bleed into the next, and easy to recompute from an export in any language.
    Covering `seq` and `prev_hash` is what makes reordering and splicing visible.
    """
    return hashlib.sha256(_ENCODER.encode(fields).encode()).hexdigest()


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    ts: datetime
    who: str
    action: str
    target: str = ""
    environment: str = ""
    revision: str = ""
    outcome: str = ""
    comment: str = ""
    key: str = ""
    prev_hash: str = ""
    hash: str = ""

    def to_json(self) -> dict[str, object]:
        """Stable keys in a fixed order; `ts` as ISO-8601 UTC with a trailing "Z"."""
        return {
            "seq": self.seq,
            "ts": to_text(self.ts),
            "who": self.who,
            "action": self.action,
            "target": self.target,
            "environment": self.environment,
            "revision": self.revision,
            "outcome": self.outcome,
            "comment": self.comment,
            "key": self.key,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> AuditRecord:
        """The record an exported line describes (the inverse of `to_json`)."""
        values = {name: data[name] for name in _FIELDS}
        values["ts"] = from_text(str(values["ts"]))
        return cls(**values)  # type: ignore[arg-type]

    def expected_hash(self) -> str:
        """The hash this record's content and `prev_hash` call for.

        Lets anyone re-check an export without the database: each line's
        `expected_hash()` must equal its `hash`, and its `prev_hash` the line before's.
        """
        return _digest(self._chained())

    def _chained(self) -> tuple[object, ...]:
        return (
            self.seq,
            to_text(self.ts),
            self.who,
            self.action,
            self.target,
            self.environment,
            self.revision,
            self.outcome,
            self.comment,
            self.key,
            self.prev_hash,
        )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    bad_seq: int | None = None
    reason: str = ""


# Every sequence `neutralise` rewrites starts with one of these (C0 but tab, DEL, C1,
# invisible characters).
_CONTROL_CHAR = re.compile(f"[{UNSAFE}]")


def _inert(values: tuple[str, ...]) -> tuple[str, ...]:
    """`values` neutralised; one scan first, as nearly every record has nothing to change."""
    if _CONTROL_CHAR.search("".join(values)) is None:
        return values
    return tuple(neutralise(text) for text in values)


def _record(row: tuple) -> AuditRecord:
    """A stored row as a record, readable even after tampering (verify says what is wrong).

    Values Quorum never writes (NULL, blobs, numbers, a malformed time, control
    characters written by hand) are shown as inert text, or as the epoch for the time,
    instead of failing `tail` and `export`.
    """
    seq, ts, *rest = row
    texts = _inert(tuple(value if isinstance(value, str) else _as_text(value) for value in rest))
    try:
        when = from_text(ts)
    except (TypeError, ValueError):
        when = datetime.fromtimestamp(0, UTC)
    return AuditRecord(seq, when, *texts)


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return neutralise(value.decode("utf-8", "replace"))
    return str(value)


_BROKEN_LINK = "previous-hash mismatch (a record before it was deleted, inserted or reordered)"


def check_chain(rows: Iterable[tuple], head: tuple[int, str] | None) -> VerifyResult:
    """Walks records (tuples in `_FIELDS` order, by seq) and names the first bad one.

    `head` is the (seq, hash) the log should end at; None checks the chain alone.
    Kept apart from the database so an export can be checked the same way.
    """
    expected_seq, prev = 1, GENESIS
    for row in rows:
        seq, prev_hash, stored = row[0], row[10], row[11]
        if seq != expected_seq:
            if isinstance(seq, int) and seq > expected_seq:
                return _bad(expected_seq, "missing (deleted)")
            return _bad(seq, f"out of sequence, expected record {expected_seq} (inserted)")
        if prev_hash != prev:
            return _bad(seq, _BROKEN_LINK)
        try:
            intact = _digest(row[:11]) == stored
        except TypeError:  # a blob: Quorum only ever writes text
            intact = False
        if not intact:
            return _bad(seq, "hash mismatch (edited)")
        expected_seq, prev = seq + 1, stored
    last = expected_seq - 1
    if head is None:
        return VerifyResult(ok=True, checked=last)
    head_seq, head_hash = head
    if head_seq > last:
        return _bad(last + 1, f"missing (log truncated; chain head is record {head_seq})")
    if head_seq < last:
        return _bad(head_seq + 1, "beyond the chain head (appended behind Quorum's back)")
    if head_hash != prev:
        return _bad(last, "does not match the chain head (edited)")
    return VerifyResult(ok=True, checked=last)


def _pin_problem(
    conn: sqlite3.Connection, checked: int, pinned: tuple[int, str]
) -> VerifyResult | None:
    """Whether the record a head seen earlier names is still there, unchanged; `checked`
    records, 1 to `checked`, were just found chained (read in the same snapshot)."""
    seq, digest = pinned
    if seq == 0:
        return None
    if seq > checked:
        return _bad(
            checked + 1,
            f"missing: the log ends at record {checked}, but record {seq} was seen "
            "earlier (the log was truncated or rebuilt)",
        )
    row = conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (seq,)).fetchone()
    if row is None or row[0] != digest:
        return _bad(seq, "is not the record seen earlier (the log was rewritten from here)")
    return None


def _bad(seq: int, what: str) -> VerifyResult:
    """A failed result; `checked` counts the records found intact before the bad one."""
    return VerifyResult(
        ok=False, checked=max(seq - 1, 0), bad_seq=seq, reason=f"record {seq}: {what}"
    )


class AuditLog(Store):
    """The shared log at `path`; tables and triggers are created on first use."""

    def __init__(self, path: Path, signer: RecordSigner | None = None) -> None:
        self.path = Path(path).expanduser()
        self.signer = signer or _process_signer
        try:
            super().__init__(self.path)
            self._conn = self.conn
            self._ensure_schema()
        except sqlite3.Error as exc:
            raise self._failure(exc) from None

    def _failure(self, exc: sqlite3.Error) -> AuditError:
        found = blocked(self.path) if denied(exc) else None
        return AuditError(str(found) if found else f"audit log {self.path}: {exc}")

    def _ensure_schema(self) -> None:
        """Creates what is missing, in one write transaction so parallel openers agree.

        Skipped when everything exists, so read-only users of a shared file can verify.
        Raw SQL: sqlite-utils creates tables and indexes but not triggers, and the
        triggers are what make the log append-only.
        """
        marks = ",".join("?" * len(_SCHEMA_OBJECTS))
        present = self._conn.execute(
            f"SELECT count(*) FROM sqlite_master WHERE name IN ({marks})", _SCHEMA_OBJECTS
        ).fetchone()[0]
        if present == len(_SCHEMA_OBJECTS):
            return
        try:
            self._conn.executescript(f"BEGIN IMMEDIATE;\n{_SCHEMA}\nCOMMIT;")
        except BaseException:
            rollback(self._conn)
            raise

    def append(
        self,
        *,
        who: str,
        action: str,
        target: str = "",
        environment: str = "",
        revision: str = "",
        outcome: str = "",
        comment: str = "",
        key: str = "",
    ) -> AuditRecord:
        """Adds one record as its own transaction and returns it, seq and hash filled in.

        Text is neutralised (control characters made visible) and otherwise kept as
        given: callers must never pass secrets.
        """
        texts = _inert((who, action, target, environment, revision, outcome, comment, key))
        now = datetime.now(UTC)
        ts = to_text(now)
        conn = self._conn
        try:
            # The write lock before reading the head, so concurrent writers queue.
            with self.lock, immediate(conn):
                head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
                if head is None:
                    raise AuditError(
                        f"audit log {self.path}: the chain head was deleted; keep the file "
                        "as evidence and move it aside to start a new log"
                    )
                head_seq, prev = head
                fields = (head_seq + 1, ts, *texts, prev)
                digest = _digest(fields)
                # Raw INSERT: the triggers check each row against the head, and this is
                # the hottest write (bench/bench_audit.py); sqlite-utils would re-read
                # the table's columns on every record.
                conn.execute(
                    f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (*fields, digest),
                )
                if self.signer is not None:  # signed under the lock: prev_hash is final
                    conn.execute(
                        "INSERT INTO audit_signatures (seq, signature) VALUES (?, ?)",
                        (head_seq + 1, self.signer(audit_message(fields))),
                    )
        except sqlite3.Error as exc:
            raise self._failure(exc) from None
        return AuditRecord(head_seq + 1, now, *texts, prev, digest)

    def _select(self, where: str = "", params: tuple = (), tail: str = "") -> list[AuditRecord]:
        sql = f"SELECT {_COLUMNS} FROM audit_log {where} ORDER BY seq {tail}"
        with self.lock:
            return [_record(row) for row in self._conn.execute(sql, params)]

    def tail(self, n: int = 50) -> list[AuditRecord]:
        """The last `n` records, oldest first."""
        if n <= 0:
            return []
        newest = self._select("", (n,), "DESC LIMIT ?")
        return newest[::-1]

    def since(self, seq: int) -> list[AuditRecord]:
        """Records appended after `seq`, for followers that remember where they were."""
        return self._select("WHERE seq > ?", (seq,))

    def by_key(self, key: str) -> list[AuditRecord]:
        """Every record of one idempotency key (none for the empty key), oldest first.

        A scan rather than an index: an index on random keys costs every append
        another page write under the shared lock, while lookups are one per action
        (bench/bench_audit.py measures both).
        """
        if not key:
            return []
        return self._select("WHERE key = ?", (key,))

    def verify(
        self,
        *,
        signers: AllowedSigners | None = None,
        members: frozenset[str] | None = None,
        pinned: tuple[int, str] | None = None,
        signed_through: int = 0,
    ) -> VerifyResult:
        """Checks the whole chain and its head inside one read snapshot.

        Appends by other consoles during the walk are not seen, so they cannot make an
        intact log look truncated. With `signers`, every record after `signed_through`
        (records up to a head whose signatures were checked before, and whose hashes
        the chain still vouches for) must carry its author's signature. `pinned`, a
        (seq, hash) seen earlier or kept elsewhere, must still be in the chain.

        Records are streamed, never all held: memory stays flat however long the log.
        """
        conn = self._conn
        try:
            with self.lock:
                conn.execute("BEGIN")  # deferred: a read snapshot, no write lock
                try:
                    head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
                    if head is None:
                        return VerifyResult(
                            ok=False, checked=0, reason="the chain head was deleted"
                        )
                    rows = conn.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq")
                    result = check_chain(rows, head)
                    if not result.ok:
                        return result
                    if pinned is not None:
                        moved = _pin_problem(conn, result.checked, pinned)
                        if moved:
                            return moved
                    if signers is None:
                        return result
                    signed = conn.execute(
                        f"SELECT {_SIGNED_COLUMNS} FROM audit_log AS l LEFT JOIN audit_signatures"
                        " AS s ON s.seq = l.seq WHERE l.seq > ? ORDER BY l.seq",
                        (signed_through,),
                    )
                    bad = audit_signatures.first_bad(
                        ((row[:-1], row[-1] or "") for row in signed), signers, members
                    )
                finally:
                    conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._failure(exc) from None
        if bad is not None:
            return _bad(*bad)
        return result

    def hash_at(self, seq: int) -> str | None:
        """The stored hash of record `seq`, None when there is no such record."""
        with self.lock:
            row = self._conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else str(row[0])

    def seq_of(self, digest: str) -> int | None:
        """The record whose hash is `digest` (a head kept elsewhere), None when absent."""
        with self.lock:
            found = self._conn.execute("SELECT seq FROM audit_log WHERE hash = ?", (digest,))
            row = found.fetchone()
        return None if row is None else int(row[0])

    def head(self) -> tuple[int, str]:
        """The chain head now: the last record's seq and hash ((0, GENESIS) when empty)."""
        with self.lock:
            row = self._conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))

    def export_jsonl(self, out: TextIO) -> int:
        """Writes every record as one JSON object per line (ASCII-only, so inert)."""
        written = 0
        with self.lock:
            for row in self._conn.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq"):
                out.write(json.dumps(_record(row).to_json(), ensure_ascii=True) + "\n")
                written += 1
        return written
