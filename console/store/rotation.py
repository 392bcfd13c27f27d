"""Overrides, swaps and sent handoff notices, kept in the shared SQLite file.

They live beside the audit log (the same file, opened with `console.store.db.connect`), so
every console on a bastion sees the same schedule. These tables are the working
state; the audit log is the record of who changed it. Times are stored as ISO-8601
UTC text, which sorts and compares correctly as text.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from console.domain.errors import QuorumError
from console.domain.instants import iso_utc
from console.store.db import Store, from_text, maybe_from_text, to_text
from console.store.files import blocked, denied

if TYPE_CHECKING:
    import sqlite_utils

_SCHEMA = {
    "rotation_overrides": (
        {
            "id": str,
            "rotation": str,
            "who": str,
            "starts_at": str,
            "ends_at": str,
            "reason": str,
            "created_by": str,
            "created_at": str,
            "cancelled_at": str,
            "cancelled_by": str,
        },
        "id",
    ),
    "rotation_swaps": (
        {
            "id": str,
            "rotation": str,
            "requested_by": str,
            "starts_at": str,
            "ends_at": str,
            "reason": str,
            "requested_at": str,
            "taken_by": str,
            "taken_at": str,
            "withdrawn_at": str,
        },
        "id",
    ),
    "rotation_notices": (
        {"rotation": str, "handoff_at": str, "holder": str, "sent_at": str},
        ("rotation", "handoff_at", "holder"),
    ),
}
_NULLABLE = {"cancelled_at", "cancelled_by", "taken_by", "taken_at", "withdrawn_at"}
# Instants written before the store kept one codec were "YYYY-MM-DDTHH:MM:SSZ" (20
# characters); as text they do not compare with the codec's form, so they are rewritten.
_TIMES = {
    "rotation_overrides": ("starts_at", "ends_at", "created_at", "cancelled_at"),
    "rotation_swaps": ("starts_at", "ends_at", "requested_at", "taken_at", "withdrawn_at"),
    "rotation_notices": ("handoff_at", "sent_at"),
}


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
            "from": iso_utc(self.starts_at),
            "to": iso_utc(self.ends_at),
            "reason": self.reason,
            "created_by": self.created_by,
            "created_at": iso_utc(self.created_at),
            "cancelled_at": iso_utc(self.cancelled_at),
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
            "from": iso_utc(self.starts_at),
            "to": iso_utc(self.ends_at),
            "reason": self.reason,
            "requested_at": iso_utc(self.requested_at),
            "taken_by": self.taken_by,
            "taken_at": iso_utc(self.taken_at),
            "withdrawn_at": iso_utc(self.withdrawn_at),
        }


class RotationStoreError(QuorumError):
    """The shared database could not be read or written (locked too long, unwritable...)."""

    @classmethod
    def of(cls, path: Path, exc: BaseException) -> RotationStoreError:
        """One line; a file this account cannot write is named with its owner, mode and fix,
        as the audit log names it, since both live in the same file."""
        found = blocked(path) if denied(exc) else None
        return cls(str(found) if found else f"rotation schedule {path}: {exc}")


def _override(row: dict) -> Override:
    return Override(
        row["id"],
        row["rotation"],
        row["who"],
        from_text(row["starts_at"]),
        from_text(row["ends_at"]),
        row["reason"],
        row["created_by"],
        from_text(row["created_at"]),
        maybe_from_text(row["cancelled_at"]),
        row["cancelled_by"],
    )


def _swap(row: dict) -> Swap:
    return Swap(
        row["id"],
        row["rotation"],
        row["requested_by"],
        from_text(row["starts_at"]),
        from_text(row["ends_at"]),
        row["reason"],
        from_text(row["requested_at"]),
        row["taken_by"],
        maybe_from_text(row["taken_at"]),
        maybe_from_text(row["withdrawn_at"]),
    )


# Where an override stops applying, in SQL: its end or its cancellation, the earlier.
_UNTIL = "min(ends_at, coalesce(cancelled_at, ends_at))"


def _create(db: sqlite_utils.Database) -> None:
    for name, (columns, pk) in _SCHEMA.items():
        db[name].create(columns, pk=pk, not_null=set(columns) - _NULLABLE, if_not_exists=True)
    for name in ("rotation_overrides", "rotation_swaps"):
        db[name].create_index(
            ["rotation", "ends_at", "starts_at"], f"{name}_span", if_not_exists=True
        )


class RotationStore(Store):
    """The rotation tables of the shared file; a database failure is one-line error.

    Tables are created only when missing, so people who may read the shared file but
    not write it still see the schedule. Conditional changes (take a swap nobody
    took, cancel an override not yet cancelled) are one raw `UPDATE ... WHERE` each:
    the check and the write in one statement, answered by its row count.
    """

    def __init__(self, path: Path) -> None:
        try:
            super().__init__(path)
            self.ensure(list(_SCHEMA), _create)
            for name in _SCHEMA:
                self._upgrade_times(name)
        except (sqlite3.Error, OSError) as exc:
            raise RotationStoreError.of(path, exc) from None

    def _upgrade_times(self, name: str) -> None:
        columns = _TIMES[name]
        old = " OR ".join(f"length({c}) = 20" for c in columns)
        if self.conn.execute(f"SELECT 1 FROM {name} WHERE {old} LIMIT 1").fetchone() is None:
            return
        sets = ", ".join(
            f"{c} = CASE WHEN length({c}) = 20 THEN substr({c}, 1, 19) || '.000000Z' ELSE {c} END"
            for c in columns
        )
        try:
            with self.writing():
                self.conn.execute(f"UPDATE {name} SET {sets} WHERE {old}")
        except sqlite3.OperationalError as exc:
            if "readonly" not in str(exc):
                raise
            # A reader without write access still reads; a writer upgrades them later.

    def _rows(self, table: str, where: str, params: list, order_by: str) -> list[dict]:
        try:
            with self.lock:
                return list(self.db[table].rows_where(where, params, order_by=order_by))
        except sqlite3.Error as exc:
            raise RotationStoreError.of(self.path, exc) from None

    def _write(self, sql: str, params: list) -> int:
        try:
            with self.writing():
                return self.conn.execute(sql, params).rowcount
        except sqlite3.Error as exc:
            raise RotationStoreError.of(self.path, exc) from None

    def overrides(self, lo: datetime, hi: datetime, rotation: str | None = None) -> list[Override]:
        """Overrides in force somewhere in [lo, hi), oldest created first (a later one wins)."""
        where = f"{_UNTIL} > ? AND starts_at < ? AND {_UNTIL} > starts_at"
        params: list[str] = [to_text(lo), to_text(hi)]
        if rotation is not None:
            where += " AND rotation = ?"
            params.append(rotation)
        rows = self._rows("rotation_overrides", where, params, "created_at, rowid")
        return [_override(r) for r in rows]

    def swaps(
        self,
        lo: datetime,
        hi: datetime,
        rotation: str | None = None,
        *,
        taken: bool | None = None,
    ) -> list[Swap]:
        """Swaps not withdrawn overlapping [lo, hi); `taken` True/False keeps taken/open ones."""
        where = "ends_at > ? AND starts_at < ? AND withdrawn_at IS NULL"
        params: list[str] = [to_text(lo), to_text(hi)]
        if rotation is not None:
            where += " AND rotation = ?"
            params.append(rotation)
        if taken is not None:
            where += " AND taken_by IS NOT NULL" if taken else " AND taken_by IS NULL"
        rows = self._rows("rotation_swaps", where, params, "starts_at, requested_at, rowid")
        return [_swap(r) for r in rows]

    def swap(self, swap_id: str) -> Swap | None:
        rows = self._rows("rotation_swaps", "id = ?", [swap_id], "id")
        return _swap(rows[0]) if rows else None

    def override(self, override_id: str) -> Override | None:
        rows = self._rows("rotation_overrides", "id = ?", [override_id], "id")
        return _override(rows[0]) if rows else None

    def insert_override(self, override: Override) -> None:
        self._insert(
            "rotation_overrides",
            {
                "id": override.id,
                "rotation": override.rotation,
                "who": override.who,
                "starts_at": to_text(override.starts_at),
                "ends_at": to_text(override.ends_at),
                "reason": override.reason,
                "created_by": override.created_by,
                "created_at": to_text(override.created_at),
            },
        )

    def insert_swap(self, swap: Swap) -> None:
        self._insert(
            "rotation_swaps",
            {
                "id": swap.id,
                "rotation": swap.rotation,
                "requested_by": swap.requested_by,
                "starts_at": to_text(swap.starts_at),
                "ends_at": to_text(swap.ends_at),
                "reason": swap.reason,
                "requested_at": to_text(swap.requested_at),
            },
        )

    def _insert(self, table: str, row: dict[str, object]) -> None:
        try:
            with self.writing() as db:
                db[table].insert(row)
        except sqlite3.Error as exc:
            raise RotationStoreError.of(self.path, exc) from None

    def audited(
        self, write: Callable[[], bool], audit: Callable[[], None], undo: Callable[[], None]
    ) -> bool:
        """Writes one change (`write`: False when someone settled it first), then its
        audit record; if the record fails, `undo` takes the change back before the
        failure propagates, so the schedule never holds a change the audit log does not
        show. The two are separate transactions here: the audit log opens its own."""
        if not write():
            return False
        try:
            audit()
        except BaseException:
            undo()
            raise
        return True

    def delete(self, table: str, row_id: str) -> None:
        """Takes back a change whose audit record could not be written."""
        self._write(f"DELETE FROM {table} WHERE id = ?", [row_id])

    def mark_taken(self, swap_id: str, who: str, at: datetime) -> bool:
        """Records the taker unless someone took it first; True if this call took it."""
        return (
            self._write(
                "UPDATE rotation_swaps SET taken_by = ?, taken_at = ?"
                " WHERE id = ? AND taken_by IS NULL AND withdrawn_at IS NULL",
                [who, to_text(at), swap_id],
            )
            == 1
        )

    def unmark_taken(self, swap_id: str) -> None:
        self._write(
            "UPDATE rotation_swaps SET taken_by = NULL, taken_at = NULL WHERE id = ?", [swap_id]
        )

    def mark_withdrawn(self, swap_id: str, at: datetime) -> bool:
        """Withdraws a swap nobody took; False if it was taken or withdrawn first."""
        return (
            self._write(
                "UPDATE rotation_swaps SET withdrawn_at = ?"
                " WHERE id = ? AND taken_by IS NULL AND withdrawn_at IS NULL",
                [to_text(at), swap_id],
            )
            == 1
        )

    def unmark_withdrawn(self, swap_id: str) -> None:
        self._write("UPDATE rotation_swaps SET withdrawn_at = NULL WHERE id = ?", [swap_id])

    def mark_cancelled(self, override_id: str, who: str, at: datetime) -> bool:
        """Ends an override at `at` (the past it covered stays); False if already cancelled."""
        return (
            self._write(
                "UPDATE rotation_overrides SET cancelled_at = ?, cancelled_by = ?"
                " WHERE id = ? AND cancelled_at IS NULL",
                [to_text(at), who, override_id],
            )
            == 1
        )

    def unmark_cancelled(self, override_id: str) -> None:
        self._write(
            "UPDATE rotation_overrides SET cancelled_at = NULL, cancelled_by = NULL WHERE id = ?",
            [override_id],
        )

    def claim_notice(self, rotation: str, handoff_at: datetime, holder: str, now: datetime) -> bool:
        """Marks a handoff as announced; False if some run already had (one notice each)."""
        return (
            self._write(
                "INSERT OR IGNORE INTO rotation_notices (rotation, handoff_at, holder, sent_at)"
                " VALUES (?, ?, ?, ?)",
                [rotation, to_text(handoff_at), holder, to_text(now)],
            )
            == 1
        )

    def release_notice(self, rotation: str, handoff_at: datetime, holder: str) -> None:
        """Forgets a claim whose notice reached no sink, so the next run tries again."""
        self._write(
            "DELETE FROM rotation_notices WHERE rotation = ? AND handoff_at = ? AND holder = ?",
            [rotation, to_text(handoff_at), holder],
        )
