"""Changing the schedule: overrides and swaps, each checked, stored and audited.

These are the schedule's own rules (spans, who may take a swap, what can still be
cancelled). They run on the engine's road for every change
(`console.engine.rotation_changes`), which decides who acts, refuses read-only
consoles and non-members, and supplies `record`: the engine's audit writer. Each
change is one write to the rotation tables followed by one audit record (action
`rotation.override`, `rotation.override.cancel`, `rotation.swap.request`,
`rotation.swap.take` or `rotation.swap.withdraw`; target the rotation; key
`<action>:<id>`). If the audit record cannot be written, the change is undone (on
the team's PostgreSQL ledger, rolled back with it), so the schedule never holds a
change the audit log does not show.

The changes are kept where `console.store.backends.rotation_source` says: the SQLite
file, or the team's ledger, where the server writes who made each change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from console.domain.errors import PolicyRefused, UsageError
from console.domain.inert import has_visible_text
from console.domain.instants import iso_utc, parse_when
from console.domain.settings import Config, RotationConfig
from console.rotation.layers import zone
from console.rotation.schedule import find_rotation, timeline
from console.store import rotation as store
from console.store.backends import RotationSource, open_rotation

_END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)
T = TypeVar("T")

# The engine's audit writer: (action, rotation, comment, key) -> one audit record.
Record = Callable[[str, str, str, str], None]


def rotation_zone(config: Config, rotation: str) -> ZoneInfo:
    """The zone a rotation is kept in, where its times without an offset are read."""
    found = find_rotation(config, rotation)
    return zone(found.timezone, f"rotation {rotation!r}")


def span_in_zone(config: Config, rotation: str, start: str, end: str) -> tuple[datetime, datetime]:
    """A span typed for `rotation` (`now`, dates, datetimes); naive ones in its zone."""
    tz = rotation_zone(config, rotation)
    return parse_when(start, tz), parse_when(end, tz)


def _span(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise UsageError("rotation times must carry a time zone")
    if ends_at <= starts_at:
        raise UsageError("the end must come after the start")
    if ends_at <= now:
        raise UsageError("that span is already over; the schedule's past is not rewritten")


def people(config: Config, rotation: RotationConfig) -> set[str]:
    """Who may take a swap of `rotation`: the team and everyone the rotation names."""
    found = set(config.members) | set(rotation.members)
    for layer in rotation.layers:
        found.update(layer.members)
    return found


def _span_text(starts_at: datetime, ends_at: datetime) -> str:
    return f"{iso_utc(starts_at)} to {iso_utc(ends_at)}"


def create_override(
    config: Config,
    rotation: str,
    who: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    db_path: RotationSource,
    *,
    by: str,
    now: datetime,
    record: Record,
) -> store.Override:
    """Puts `who` on `rotation` over [starts_at, ends_at), whatever the layers say.

    The reason is mandatory, as for every override in Quorum.
    """
    find_rotation(config, rotation)
    who, reason = who.strip(), reason.strip()
    if not who:
        raise UsageError("an override needs the name of who holds the rotation (--who)")
    if not has_visible_text(reason):
        raise UsageError("an override needs a reason with visible text (--reason)")
    _span(starts_at, ends_at, now)
    if who not in people(config, find_rotation(config, rotation)):
        raise UsageError(
            f"{who} is neither in [team] members nor a member of {rotation}: "
            "only someone the config knows can hold it"
        )
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
    with open_rotation(db_path) as db:

        def insert() -> bool:
            db.insert_override(override)
            return True

        db.audited(
            insert,
            _audit(
                record,
                "rotation.override",
                rotation,
                f"{who} {_span_text(starts_at, ends_at)}: {reason}",
                override.id,
            ),
            undo=lambda: db.delete("rotation_overrides", override.id),
        )
    return override


def request_swap(
    config: Config,
    rotation: str,
    starts_at: datetime,
    ends_at: datetime,
    db_path: RotationSource,
    *,
    reason: str = "",
    by: str,
    now: datetime,
    record: Record,
) -> store.Swap:
    """Offers `by`'s time on `rotation` over [starts_at, ends_at) for someone to take.

    Only time one holds can be offered: every stretch of the span must be `by`'s in
    the final schedule (an override or an earlier swap included).
    """
    find_rotation(config, rotation)
    if reason and not has_visible_text(reason):
        raise UsageError("a swap's reason must have visible text")
    _span(starts_at, ends_at, now)
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
    comment = _span_text(starts_at, ends_at) + (f": {swap.reason}" if swap.reason else "")
    with open_rotation(db_path) as db:

        def insert() -> bool:
            db.insert_swap(swap)
            return True

        db.audited(
            insert,
            _audit(record, "rotation.swap.request", rotation, comment, swap.id),
            undo=lambda: db.delete("rotation_swaps", swap.id),
        )
    return swap


def _not_open(swap: store.Swap) -> str:
    if swap.taken_by:
        return f"swap {swap.id} was already taken by {swap.taken_by}"
    return f"swap {swap.id} was withdrawn by {swap.requested_by}"


def take_swap(
    config: Config,
    swap_id: str,
    db_path: RotationSource,
    *,
    by: str,
    now: datetime,
    record: Record,
) -> store.Swap:
    """`by` takes an open swap: from now on they hold the offered span.

    Refused when the swap is unknown, already taken, over, one's own, or when `by`
    is neither in the team nor in the rotation.
    """
    with open_rotation(db_path) as db:
        offered = db.swap(swap_id)
        if offered is None:
            raise UsageError(f"no swap {swap_id!r}")
        rotation = find_rotation(config, offered.rotation)
        if offered.requested_by == by:
            raise PolicyRefused("a swap cannot be taken by the person who offered it")
        if by not in people(config, rotation):
            raise PolicyRefused(f"{by} is neither in [team] members nor in {rotation.name}")
        if offered.ends_at <= now:
            raise PolicyRefused(f"swap {swap_id} is over")
        taken = db.audited(
            lambda: db.mark_taken(swap_id, by, now),
            _audit(
                record,
                "rotation.swap.take",
                rotation.name,
                f"from {offered.requested_by}, {_span_text(offered.starts_at, offered.ends_at)}",
                swap_id,
            ),
            undo=lambda: db.unmark_taken(swap_id),
        )
        if not taken:
            raise PolicyRefused(_not_open(db.swap(swap_id) or offered))
        return _present(db.swap(swap_id))


def cancel_override(
    config: Config,
    override_id: str,
    db_path: RotationSource,
    *,
    by: str,
    now: datetime,
    record: Record,
) -> store.Override:
    """Ends an override now; one that has not begun is dropped whole.

    The part already past stays as it was: the schedule's past is not rewritten.
    """
    with open_rotation(db_path) as db:
        found = db.override(override_id)
        if found is None:
            raise UsageError(f"no override {override_id!r}")
        if found.until <= now:
            raise PolicyRefused(f"override {override_id} is already over")
        cancelled = db.audited(
            lambda: db.mark_cancelled(override_id, by, now),
            _audit(
                record,
                "rotation.override.cancel",
                found.rotation,
                f"{found.who} {_span_text(found.starts_at, found.ends_at)}",
                override_id,
            ),
            undo=lambda: db.unmark_cancelled(override_id),
        )
        if not cancelled:
            raise PolicyRefused(f"override {override_id} was already cancelled")
        return _present(db.override(override_id))


def withdraw_swap(
    config: Config,
    swap_id: str,
    db_path: RotationSource,
    *,
    by: str,
    now: datetime,
    record: Record,
) -> store.Swap:
    """Withdraws one's own swap offer before anyone takes it."""
    with open_rotation(db_path) as db:
        offered = db.swap(swap_id)
        if offered is None:
            raise UsageError(f"no swap {swap_id!r}")
        if offered.requested_by != by:
            raise PolicyRefused(f"only {offered.requested_by} can withdraw swap {swap_id}")
        withdrawn = db.audited(
            lambda: db.mark_withdrawn(swap_id, now),
            _audit(
                record,
                "rotation.swap.withdraw",
                offered.rotation,
                _span_text(offered.starts_at, offered.ends_at),
                swap_id,
            ),
            undo=lambda: db.unmark_withdrawn(swap_id),
        )
        if not withdrawn:
            raise PolicyRefused(f"swap {swap_id} was already taken or withdrawn")
        return _present(db.swap(swap_id))


def cancel(
    config: Config,
    change_id: str,
    db_path: RotationSource,
    *,
    by: str,
    now: datetime,
    record: Record,
) -> store.Override | store.Swap:
    """Cancels the override or withdraws the swap with that id, whichever it names."""
    with open_rotation(db_path) as db:
        is_override = db.override(change_id) is not None
        if not is_override and db.swap(change_id) is None:
            raise UsageError(f"no override or swap {change_id!r}")
    if is_override:
        return cancel_override(config, change_id, db_path, by=by, now=now, record=record)
    return withdraw_swap(config, change_id, db_path, by=by, now=now, record=record)


def open_swaps(config: Config, db_path: RotationSource, now: datetime) -> list[store.Swap]:
    """Swaps offered and not yet taken that are not over, soonest first."""
    names = {r.name for r in config.rotations}
    with open_rotation(db_path) as db:
        found = db.swaps(now, _END_OF_TIME, taken=False)
    return [s for s in found if s.rotation in names]


def _present(found: T | None) -> T:
    assert found is not None  # written by this change, never deleted
    return found


def _audit(
    record: Record, action: str, rotation: str, comment: str, id_: str
) -> Callable[[], None]:
    """The audit record of one change, written by the store's `audited` once the change
    is (keyed `<action>:<id>`)."""
    return lambda: record(action, rotation, comment, f"{action}:{id_}")
