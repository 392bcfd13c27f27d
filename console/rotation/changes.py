"""Changing the schedule: overrides and swaps, each checked, stored and audited.

The TUI and the command line call these same functions. Each change is one write
to the rotation tables followed by one audit record (action `rotation.override`,
`rotation.override.cancel`, `rotation.swap.request`, `rotation.swap.take` or
`rotation.swap.withdraw`; target the rotation; key `<action>:<id>`). If the audit
record cannot be written, the change is undone, so
the schedule never holds a change the audit log does not show. Telling the team is
the caller's step (`console.rotation.notify.tell_team`), as it is asynchronous.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from console.domain.errors import PolicyRefused, UsageError
from console.domain.identity import whoami
from console.domain.inert import has_visible_text
from console.domain.model import utcnow
from console.domain.settings import Config, RotationConfig
from console.rotation.schedule import find_rotation, timeline
from console.store import rotation as store
from console.store.audit import AuditLog

_END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)


def _span(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise UsageError("rotation times must carry a time zone")
    if ends_at <= starts_at:
        raise UsageError("the end must come after the start")
    if ends_at <= now:
        raise UsageError("that span is already over; the schedule's past is not rewritten")


def _may_change(config: Config, person: str) -> None:
    """With `[team] members` configured, only members change the schedule."""
    if config.members and person not in config.members:
        raise PolicyRefused(f"{person} is not in [team] members")


def _people(config: Config, rotation: RotationConfig) -> set[str]:
    people = set(config.members) | set(rotation.members)
    for layer in rotation.layers:
        people.update(layer.members)
    return people


def _span_text(starts_at: datetime, ends_at: datetime) -> str:
    return f"{store.stamp(starts_at)} to {store.stamp(ends_at)}"


def create_override(
    config: Config,
    rotation: str,
    who: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    db_path: Path,
    *,
    by: str | None = None,
    now: datetime | None = None,
) -> store.Override:
    """Puts `who` on `rotation` over [starts_at, ends_at), whatever the layers say.

    The reason is mandatory, as for every override in Quorum. `by` defaults to the
    OS account running the process.
    """
    find_rotation(config, rotation)
    by = by or whoami()
    now = now or utcnow()
    who, reason = who.strip(), reason.strip()
    if not who:
        raise UsageError("an override needs the name of who holds the rotation (--who)")
    if not has_visible_text(reason):
        raise UsageError("an override needs a reason with visible text (--reason)")
    _span(starts_at, ends_at, now)
    if who not in _people(config, find_rotation(config, rotation)):
        raise UsageError(
            f"{who} is neither in [team] members nor a member of {rotation}: "
            "only someone the config knows can hold it"
        )
    _may_change(config, by)
    override = store.Override(
        id=store.new_id(),
        rotation=rotation,
        who=who,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        created_by=by,
        created_at=now,
    )
    with store.opened(db_path) as db:
        with store.write_transaction(db):
            store.insert_override(db, override)
        _audit_or_undo(
            db,
            db_path,
            by,
            "rotation.override",
            rotation,
            f"{who} {_span_text(starts_at, ends_at)}: {reason}",
            override.id,
            undo="DELETE FROM rotation_overrides WHERE id = ?",
        )
    return override


def request_swap(
    config: Config,
    rotation: str,
    starts_at: datetime,
    ends_at: datetime,
    db_path: Path,
    *,
    reason: str = "",
    by: str | None = None,
    now: datetime | None = None,
) -> store.Swap:
    """Offers `by`'s time on `rotation` over [starts_at, ends_at) for someone to take.

    Only time one holds can be offered: every stretch of the span must be `by`'s in
    the final schedule (an override or an earlier swap included).
    """
    find_rotation(config, rotation)
    by = by or whoami()
    now = now or utcnow()
    if reason and not has_visible_text(reason):
        raise UsageError("a swap's reason must have visible text")
    _span(starts_at, ends_at, now)
    _may_change(config, by)
    others = sorted(
        {s.holder or "nobody" for s in timeline(config, rotation, starts_at, ends_at, db_path)}
        - {by}
    )
    if others:
        raise PolicyRefused(
            f"{by} does not hold {rotation} for all of {_span_text(starts_at, ends_at)}"
            f" (held by: {', '.join(others)})"
        )
    swap = store.Swap(
        id=store.new_id(),
        rotation=rotation,
        requested_by=by,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason.strip(),
        requested_at=now,
    )
    with store.opened(db_path) as db:
        with store.write_transaction(db):
            store.insert_swap(db, swap)
        comment = _span_text(starts_at, ends_at) + (f": {swap.reason}" if swap.reason else "")
        _audit_or_undo(
            db,
            db_path,
            by,
            "rotation.swap.request",
            rotation,
            comment,
            swap.id,
            undo="DELETE FROM rotation_swaps WHERE id = ?",
        )
    return swap


def _not_open(swap: store.Swap) -> str:
    if swap.taken_by:
        return f"swap {swap.id} was already taken by {swap.taken_by}"
    return f"swap {swap.id} was withdrawn by {swap.requested_by}"


def take_swap(
    config: Config,
    swap_id: str,
    db_path: Path,
    *,
    by: str | None = None,
    now: datetime | None = None,
) -> store.Swap:
    """`by` takes an open swap: from now on they hold the offered span.

    Refused when the swap is unknown, already taken, over, one's own, or when `by`
    is neither in the team nor in the rotation.
    """
    by = by or whoami()
    now = now or utcnow()
    with store.opened(db_path) as db:
        offered = store.swap(db, swap_id)
        if offered is None:
            raise UsageError(f"no swap {swap_id!r}")
        rotation = find_rotation(config, offered.rotation)
        if offered.requested_by == by:
            raise PolicyRefused("a swap cannot be taken by the person who offered it")
        if by not in _people(config, rotation):
            raise PolicyRefused(f"{by} is neither in [team] members nor in {rotation.name}")
        if offered.ends_at <= now:
            raise PolicyRefused(f"swap {swap_id} is over")
        with store.write_transaction(db):
            if not store.mark_taken(db, swap_id, by, now):
                raise PolicyRefused(_not_open(store.swap(db, swap_id) or offered))
        _audit_or_undo(
            db,
            db_path,
            by,
            "rotation.swap.take",
            rotation.name,
            f"from {offered.requested_by}, {_span_text(offered.starts_at, offered.ends_at)}",
            swap_id,
            undo="UPDATE rotation_swaps SET taken_by = NULL, taken_at = NULL WHERE id = ?",
        )
        return store.swap(db, swap_id)


def cancel_override(
    config: Config,
    override_id: str,
    db_path: Path,
    *,
    by: str | None = None,
    now: datetime | None = None,
) -> store.Override:
    """Ends an override now; one that has not begun is dropped whole.

    The part already past stays as it was: the schedule's past is not rewritten.
    """
    by = by or whoami()
    now = now or utcnow()
    _may_change(config, by)
    with store.opened(db_path) as db:
        found = store.override(db, override_id)
        if found is None:
            raise UsageError(f"no override {override_id!r}")
        if found.until <= now:
            raise PolicyRefused(f"override {override_id} is already over")
        with store.write_transaction(db):
            if not store.mark_cancelled(db, override_id, by, now):
                raise PolicyRefused(f"override {override_id} was already cancelled")
        _audit_or_undo(
            db,
            db_path,
            by,
            "rotation.override.cancel",
            found.rotation,
            f"{found.who} {_span_text(found.starts_at, found.ends_at)}",
            override_id,
            undo="UPDATE rotation_overrides SET cancelled_at = NULL, cancelled_by = NULL"
            " WHERE id = ?",
        )
        return store.override(db, override_id)


def withdraw_swap(
    config: Config,
    swap_id: str,
    db_path: Path,
    *,
    by: str | None = None,
    now: datetime | None = None,
) -> store.Swap:
    """Withdraws one's own swap offer before anyone takes it."""
    by = by or whoami()
    now = now or utcnow()
    with store.opened(db_path) as db:
        offered = store.swap(db, swap_id)
        if offered is None:
            raise UsageError(f"no swap {swap_id!r}")
        if offered.requested_by != by:
            raise PolicyRefused(f"only {offered.requested_by} can withdraw swap {swap_id}")
        with store.write_transaction(db):
            if not store.mark_withdrawn(db, swap_id, now):
                raise PolicyRefused(f"swap {swap_id} was already taken or withdrawn")
        _audit_or_undo(
            db,
            db_path,
            by,
            "rotation.swap.withdraw",
            offered.rotation,
            _span_text(offered.starts_at, offered.ends_at),
            swap_id,
            undo="UPDATE rotation_swaps SET withdrawn_at = NULL WHERE id = ?",
        )
        return store.swap(db, swap_id)


def cancel(
    config: Config,
    change_id: str,
    db_path: Path,
    *,
    by: str | None = None,
    now: datetime | None = None,
) -> store.Override | store.Swap:
    """Cancels the override or withdraws the swap with that id, whichever it names."""
    with store.opened(db_path) as db:
        is_override = store.override(db, change_id) is not None
        if not is_override and store.swap(db, change_id) is None:
            raise UsageError(f"no override or swap {change_id!r}")
    if is_override:
        return cancel_override(config, change_id, db_path, by=by, now=now)
    return withdraw_swap(config, change_id, db_path, by=by, now=now)


def open_swaps(config: Config, db_path: Path, now: datetime | None = None) -> list[store.Swap]:
    """Swaps offered and not yet taken that are not over, soonest first."""
    now = now or utcnow()
    names = {r.name for r in config.rotations}
    with store.opened(db_path) as db:
        found = store.swaps(db, now, _END_OF_TIME, taken=False)
    return [s for s in found if s.rotation in names]


def overrides_between(
    config: Config, lo: datetime, hi: datetime, db_path: Path
) -> list[store.Override]:
    """Overrides of configured rotations overlapping [lo, hi), oldest created first."""
    names = {r.name for r in config.rotations}
    with store.opened(db_path) as db:
        return [o for o in store.overrides(db, lo, hi) if o.rotation in names]


def _audit_or_undo(
    db: sqlite_utils.Database,
    db_path: Path,
    who: str,
    action: str,
    rotation: str,
    comment: str,
    id_: str,
    *,
    undo: str,
) -> None:
    """Audits a change just written to `db`; if that fails, `undo` (SQL taking the change's
    id) takes the change back before the failure propagates, so the schedule never holds a
    change the audit log does not show."""
    try:
        log = AuditLog(db_path)
        try:
            log.append(
                who=who,
                action=action,
                target=rotation,
                outcome="recorded",
                comment=comment,
                key=f"{action}:{id_}",
            )
        finally:
            log.close()
    except BaseException:
        with store.write_transaction(db):
            db.conn.execute(undo, [id_])
        raise
