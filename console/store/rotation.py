"""Overrides, swaps and sent handoff notices, kept in the shared SQLite file.

They live beside the audit log (the same file, opened with `console.store.db.connect`), so
every console on a bastion sees the same schedule. These tables are the working
state; the audit log is the record of who changed it. Times are stored as ISO-8601
UTC text, which sorts and compares correctly as text.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from console.domain.errors import QuorumError
from console.store.db import connect, rollback

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rotation_overrides (
    id TEXT PRIMARY KEY,
    rotation TEXT NOT NULL,
    who TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    cancelled_at TEXT,
    cancelled_by TEXT
);
CREATE INDEX IF NOT EXISTS rotation_overrides_span
    ON rotation_overrides (rotation, ends_at, starts_at);
CREATE TABLE IF NOT EXISTS rotation_swaps (
    id TEXT PRIMARY KEY,
    rotation TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    taken_by TEXT,
    taken_at TEXT,
    withdrawn_at TEXT
);
CREATE INDEX IF NOT EXISTS rotation_swaps_span
    ON rotation_swaps (rotation, ends_at, starts_at);
CREATE TABLE IF NOT EXISTS rotation_notices (
    rotation TEXT NOT NULL,
    handoff_at TEXT NOT NULL,
    holder TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (rotation, handoff_at, holder)
);
"""


def stamp(value: datetime) -> str:
    """The stored form of an instant: ISO-8601 UTC with seconds, which sorts as text."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unstamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def new_id() -> str:
    """A short id a person can type: six hex digits."""
    return secrets.token_hex(3)


@dataclass(frozen=True)
class Override:
    """`who` holds `rotation` from `starts_at` to `ends_at`, whatever the layers say."""

    id: str
    rotation: str
    who: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str
    created_at: datetime
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None

    @property
    def until(self) -> datetime:
        """Where it stops applying: its end, or its cancellation if that came first."""
        if self.cancelled_at is not None and self.cancelled_at < self.ends_at:
            return max(self.cancelled_at, self.starts_at)
        return self.ends_at

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.until

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "rotation": self.rotation,
            "who": self.who,
            "from": stamp(self.starts_at),
            "to": stamp(self.ends_at),
            "reason": self.reason,
            "created_by": self.created_by,
            "created_at": stamp(self.created_at),
            "cancelled_at": stamp(self.cancelled_at) if self.cancelled_at else None,
            "cancelled_by": self.cancelled_by,
        }


@dataclass(frozen=True)
class Swap:
    """`requested_by` offers their time in a span; once taken, `taken_by` holds it."""

    id: str
    rotation: str
    requested_by: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    requested_at: datetime
    taken_by: str | None = None
    taken_at: datetime | None = None
    withdrawn_at: datetime | None = None  # withdrawn by its requester before anyone took it

    @property
    def taken(self) -> bool:
        return self.taken_by is not None

    @property
    def until(self) -> datetime:
        return self.ends_at

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "rotation": self.rotation,
            "requested_by": self.requested_by,
            "from": stamp(self.starts_at),
            "to": stamp(self.ends_at),
            "reason": self.reason,
            "requested_at": stamp(self.requested_at),
            "taken_by": self.taken_by,
            "taken_at": stamp(self.taken_at) if self.taken_at else None,
            "withdrawn_at": stamp(self.withdrawn_at) if self.withdrawn_at else None,
        }


_TABLES = ("rotation_overrides", "rotation_swaps", "rotation_notices")


class RotationStoreError(QuorumError):
    """The shared database could not be read or written (locked too long, unwritable...)."""


@contextmanager
def opened(path: Path) -> Iterator[sqlite_utils.Database]:
    """The shared database with the rotation tables present, closed afterwards.

    Tables are created only when missing, so people who may read the shared file but
    not write it still see the schedule. Database failures become one-line errors.
    """
    try:
        db = connect(path)
    except (sqlite3.Error, OSError) as exc:
        raise RotationStoreError(f"rotation schedule {path}: {exc}") from None
    try:
        marks = ",".join("?" * len(_TABLES))
        present = db.conn.execute(
            f"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ({marks})",
            _TABLES,
        ).fetchone()[0]
        if present < len(_TABLES):
            db.conn.executescript(_SCHEMA)
        yield db
    except sqlite3.Error as exc:
        raise RotationStoreError(f"rotation schedule {path}: {exc}") from None
    finally:
        db.conn.close()


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One `BEGIN IMMEDIATE` transaction: checks and the write see the same state."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.conn.execute("COMMIT")
    except BaseException:
        rollback(db.conn)
        raise


def _when(text: str | None) -> datetime | None:
    return unstamp(text) if text else None


def _override(row: tuple) -> Override:
    id_, rotation, who, starts, ends, reason, created_by, created_at, cancelled, by = row
    return Override(
        id_,
        rotation,
        who,
        unstamp(starts),
        unstamp(ends),
        reason,
        created_by,
        unstamp(created_at),
        _when(cancelled),
        by,
    )


def _swap(row: tuple) -> Swap:
    id_, rotation, by, starts, ends, reason, requested_at, taken_by, taken_at, withdrawn = row
    return Swap(
        id_,
        rotation,
        by,
        unstamp(starts),
        unstamp(ends),
        reason,
        unstamp(requested_at),
        taken_by,
        _when(taken_at),
        _when(withdrawn),
    )


_OVERRIDE_COLUMNS = (
    "id, rotation, who, starts_at, ends_at, reason, created_by, created_at,"
    " cancelled_at, cancelled_by"
)
_SWAP_COLUMNS = (
    "id, rotation, requested_by, starts_at, ends_at, reason, requested_at, taken_by, taken_at,"
    " withdrawn_at"
)
# Where an override stops applying, in SQL: its end or its cancellation, the earlier.
_UNTIL = "min(ends_at, coalesce(cancelled_at, ends_at))"


def overrides(
    db: sqlite_utils.Database, lo: datetime, hi: datetime, rotation: str | None = None
) -> list[Override]:
    """Overrides in force somewhere in [lo, hi), oldest created first (a later one wins)."""
    sql = (
        f"SELECT {_OVERRIDE_COLUMNS} FROM rotation_overrides"
        f" WHERE {_UNTIL} > ? AND starts_at < ? AND {_UNTIL} > starts_at"
    )
    params: list[str] = [stamp(lo), stamp(hi)]
    if rotation is not None:
        sql += " AND rotation = ?"
        params.append(rotation)
    rows = db.conn.execute(sql + " ORDER BY created_at, rowid", params).fetchall()
    return [_override(r) for r in rows]


def swaps(
    db: sqlite_utils.Database,
    lo: datetime,
    hi: datetime,
    rotation: str | None = None,
    *,
    taken: bool | None = None,
) -> list[Swap]:
    """Swaps not withdrawn overlapping [lo, hi); `taken` True/False keeps taken/open ones."""
    sql = (
        f"SELECT {_SWAP_COLUMNS} FROM rotation_swaps"
        " WHERE ends_at > ? AND starts_at < ? AND withdrawn_at IS NULL"
    )
    params: list[str] = [stamp(lo), stamp(hi)]
    if rotation is not None:
        sql += " AND rotation = ?"
        params.append(rotation)
    if taken is not None:
        sql += " AND taken_by IS NOT NULL" if taken else " AND taken_by IS NULL"
    rows = db.conn.execute(sql + " ORDER BY starts_at, requested_at, rowid", params).fetchall()
    return [_swap(r) for r in rows]


def swap(db: sqlite_utils.Database, swap_id: str) -> Swap | None:
    row = db.conn.execute(
        f"SELECT {_SWAP_COLUMNS} FROM rotation_swaps WHERE id = ?", [swap_id]
    ).fetchone()
    return _swap(row) if row else None


def override(db: sqlite_utils.Database, override_id: str) -> Override | None:
    row = db.conn.execute(
        f"SELECT {_OVERRIDE_COLUMNS} FROM rotation_overrides WHERE id = ?", [override_id]
    ).fetchone()
    return _override(row) if row else None


def insert_override(db: sqlite_utils.Database, override: Override) -> None:
    db.conn.execute(
        f"INSERT INTO rotation_overrides ({_OVERRIDE_COLUMNS})"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
        [
            override.id,
            override.rotation,
            override.who,
            stamp(override.starts_at),
            stamp(override.ends_at),
            override.reason,
            override.created_by,
            stamp(override.created_at),
        ],
    )


def insert_swap(db: sqlite_utils.Database, swap: Swap) -> None:
    db.conn.execute(
        f"INSERT INTO rotation_swaps ({_SWAP_COLUMNS})"
        " VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
        [
            swap.id,
            swap.rotation,
            swap.requested_by,
            stamp(swap.starts_at),
            stamp(swap.ends_at),
            swap.reason,
            stamp(swap.requested_at),
        ],
    )


def mark_taken(db: sqlite_utils.Database, swap_id: str, who: str, at: datetime) -> bool:
    """Records the taker unless someone took it first; True if this call took it."""
    cursor = db.conn.execute(
        "UPDATE rotation_swaps SET taken_by = ?, taken_at = ?"
        " WHERE id = ? AND taken_by IS NULL AND withdrawn_at IS NULL",
        [who, stamp(at), swap_id],
    )
    return cursor.rowcount == 1


def mark_withdrawn(db: sqlite_utils.Database, swap_id: str, at: datetime) -> bool:
    """Withdraws a swap nobody took; False if it was taken or withdrawn first."""
    cursor = db.conn.execute(
        "UPDATE rotation_swaps SET withdrawn_at = ?"
        " WHERE id = ? AND taken_by IS NULL AND withdrawn_at IS NULL",
        [stamp(at), swap_id],
    )
    return cursor.rowcount == 1


def mark_cancelled(db: sqlite_utils.Database, override_id: str, who: str, at: datetime) -> bool:
    """Ends an override at `at` (the past it covered stays); False if already cancelled."""
    cursor = db.conn.execute(
        "UPDATE rotation_overrides SET cancelled_at = ?, cancelled_by = ?"
        " WHERE id = ? AND cancelled_at IS NULL",
        [stamp(at), who, override_id],
    )
    return cursor.rowcount == 1


def claim_notice(
    db: sqlite_utils.Database, rotation: str, handoff_at: datetime, holder: str, now: datetime
) -> bool:
    """Marks a handoff as announced; False if some run already had (one notice each)."""
    cursor = db.conn.execute(
        "INSERT OR IGNORE INTO rotation_notices (rotation, handoff_at, holder, sent_at)"
        " VALUES (?, ?, ?, ?)",
        [rotation, stamp(handoff_at), holder, stamp(now)],
    )
    return cursor.rowcount == 1


def release_notice(
    db: sqlite_utils.Database, rotation: str, handoff_at: datetime, holder: str
) -> None:
    """Forgets a claim whose notice reached no sink, so the next run tries again."""
    db.conn.execute(
        "DELETE FROM rotation_notices WHERE rotation = ? AND handoff_at = ? AND holder = ?",
        [rotation, stamp(handoff_at), holder],
    )
