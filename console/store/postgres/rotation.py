"""Rotation overrides, swaps and handoff notices on the PostgreSQL ledger, with
`RotationStore`'s interface.

The server writes each change through its functions (`quorum.rotation_override`,
`rotation_cancel`, `rotation_swap`, `rotation_take`, `rotation_withdraw`), which take
the author from the session user and settle a change by setting its columns once.
A member cannot delete or rewrite one, so a change whose audit record fails is not
taken back by a second write as on the SQLite file: `audited` runs the change and the
audit record inside one transaction, and the change is rolled back with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from console.store.postgres.base import PgStore
from console.store.rotation import Override, Swap

_OVERRIDE = (
    "id, rotation, who, starts_at, ends_at, reason, created_by, created_at, cancelled_at, "
    "cancelled_by"
)
_SWAP = (
    "id, rotation, requested_by, starts_at, ends_at, reason, requested_at, taken_by, "
    "taken_at, withdrawn_at"
)
# Where an override stops applying: its end or its cancellation, the earlier.
_UNTIL = "least(ends_at, coalesce(cancelled_at, ends_at))"


class PgRotationStore(PgStore):
    """The rotation tables of the team's ledger; reads as `RotationStore` reads."""

    def overrides(self, lo: datetime, hi: datetime, rotation: str | None = None) -> list[Override]:
        """Overrides in force somewhere in [lo, hi), oldest created first (a later one wins)."""
        where = f"{_UNTIL} > %s AND starts_at < %s AND {_UNTIL} > starts_at"
        params: list[object] = [lo, hi]
        if rotation is not None:
            where += " AND rotation = %s"
            params.append(rotation)
        with self.reading() as conn:
            rows = conn.execute(
                f"SELECT {_OVERRIDE} FROM quorum.rotation_overrides WHERE {where} "
                "ORDER BY created_at, id",
                params,
            ).fetchall()
        return [Override(*row) for row in rows]

    def swaps(
        self,
        lo: datetime,
        hi: datetime,
        rotation: str | None = None,
        *,
        taken: bool | None = None,
    ) -> list[Swap]:
        """Swaps not withdrawn overlapping [lo, hi); `taken` True/False keeps taken/open ones."""
        where = "ends_at > %s AND starts_at < %s AND withdrawn_at IS NULL"
        params: list[object] = [lo, hi]
        if rotation is not None:
            where += " AND rotation = %s"
            params.append(rotation)
        if taken is not None:
            where += " AND taken_by IS NOT NULL" if taken else " AND taken_by IS NULL"
        with self.reading() as conn:
            rows = conn.execute(
                f"SELECT {_SWAP} FROM quorum.rotation_swaps WHERE {where} "
                "ORDER BY starts_at, requested_at, id",
                params,
            ).fetchall()
        return [Swap(*row) for row in rows]

    def swap(self, swap_id: str) -> Swap | None:
        with self.reading() as conn:
            row = conn.execute(
                f"SELECT {_SWAP} FROM quorum.rotation_swaps WHERE id = %s", (swap_id,)
            ).fetchone()
        return None if row is None else Swap(*row)

    def override(self, override_id: str) -> Override | None:
        with self.reading() as conn:
            row = conn.execute(
                f"SELECT {_OVERRIDE} FROM quorum.rotation_overrides WHERE id = %s",
                (override_id,),
            ).fetchone()
        return None if row is None else Override(*row)

    def insert_override(self, override: Override) -> None:
        """Written as the session's member: `created_by` is the server's to say."""
        with self.writing() as conn:
            conn.execute(
                "SELECT quorum.rotation_override(%s, %s, %s, %s, %s, %s, %s)",
                (
                    override.id,
                    override.rotation,
                    override.who,
                    override.starts_at,
                    override.ends_at,
                    override.reason,
                    override.created_at,
                ),
            )

    def insert_swap(self, swap: Swap) -> None:
        """Offered as the session's member: `requested_by` is the server's to say."""
        with self.writing() as conn:
            conn.execute(
                "SELECT quorum.rotation_swap(%s, %s, %s, %s, %s, %s)",
                (swap.id, swap.rotation, swap.starts_at, swap.ends_at, swap.reason,
                 swap.requested_at),
            )  # fmt: skip

    def _true(self, sql: str, params: tuple[object, ...]) -> bool:
        with self.writing() as conn:
            row = conn.execute(sql, params).fetchone()
        return bool(row and row[0])

    def mark_taken(self, swap_id: str, who: str, at: datetime) -> bool:
        """Takes the swap as the session's member (`who` is the server's to say); True
        if this call took it."""
        del who
        return self._true("SELECT quorum.rotation_take(%s, %s)", (swap_id, at))

    def mark_withdrawn(self, swap_id: str, at: datetime) -> bool:
        """Withdraws the session member's own swap nobody took; False if it was taken
        or withdrawn first."""
        return self._true("SELECT quorum.rotation_withdraw(%s, %s)", (swap_id, at))

    def mark_cancelled(self, override_id: str, who: str, at: datetime) -> bool:
        """Ends an override at `at` as the session's member; False if already cancelled."""
        del who
        return self._true("SELECT quorum.rotation_cancel(%s, %s)", (override_id, at))

    def audited(
        self, write: Callable[[], bool], audit: Callable[[], None], undo: Callable[[], None]
    ) -> bool:
        """Writes one change (`write`: False when someone settled it first) and its audit
        record in one transaction, so a failed record rolls the change back. `undo` is
        the SQLite file's way of taking a change back; a transaction needs none."""
        del undo
        with self.writing():
            if not write():
                return False
            audit()
        return True

    def claim_notice(self, rotation: str, handoff_at: datetime, holder: str, now: datetime) -> bool:
        """Marks a handoff as announced (the server dates it; `now` is the client's
        clock); False if some run already had."""
        del now
        return self._true(
            "SELECT quorum.rotation_notice_claim(%s, %s, %s)", (rotation, handoff_at, holder)
        )

    def release_notice(self, rotation: str, handoff_at: datetime, holder: str) -> None:
        """Forgets this member's claim whose notice reached no sink."""
        with self.writing() as conn:
            conn.execute(
                "SELECT quorum.rotation_notice_release(%s, %s, %s)", (rotation, handoff_at, holder)
            )
