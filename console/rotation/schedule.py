"""The rotation schedule: who holds each rotation when, overrides and swaps included.

The final schedule at an instant is decided in this order, the last one winning:
1. the rotation's layers, later layers over earlier ones wherever they have a holder
   (outside its restrictions, before its start or after its end a layer has none);
2. taken swaps, applied in the order they were taken, each only where the person who
   offered it holds the rotation (so a swap never gives away someone else's time);
3. overrides, the most recently created one winning where they overlap.
Where nothing yields a holder the schedule has a gap, and a gap is reported as one
(`Segment.gap`, `RotationSlot.gap`, `DayCell.gap`), never filled silently.

Everything here is computed; the only state read is the overrides and swaps table
(`console.store.rotation`). Changing them goes through `console.rotation.changes`,
which also writes the audit log.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from console.domain.errors import UsageError
from console.domain.instants import iso_utc
from console.domain.model import RotationSlot
from console.domain.settings import Config, RotationConfig
from console.domain.suggest import did_you_mean
from console.rotation.layers import Layer, aware, compile_rotation, zone
from console.store import rotation as store

if TYPE_CHECKING:
    from console.store.backends import RotationSource

# How far `slots_at` looks for the next handoff and back for the current holder's start.
HORIZON = timedelta(days=800)
_STEP = timedelta(days=40)


@dataclass(frozen=True)
class Segment:
    """A stretch of time with one holder (or a gap) and one reason for it."""

    rotation: str
    holder: str  # "" in a gap
    starts_at: datetime
    ends_at: datetime
    layer: str = ""  # the layer that put the holder there; "" for gaps and overrides
    override: store.Override | None = None
    swap: store.Swap | None = None

    @property
    def gap(self) -> bool:
        return not self.holder

    @property
    def why(self) -> str:
        """Why this person holds this stretch, in one line."""
        if self.override is not None:
            return f"override by {self.override.created_by}: {self.override.reason}"
        if self.swap is not None:
            return f"swap: taken from {self.swap.requested_by} by {self.swap.taken_by}"
        if self.gap:
            return "nobody holds this rotation here"
        return f"layer {self.layer}"

    def to_json(self) -> dict[str, object]:
        return {
            "rotation": self.rotation,
            "holder": self.holder or None,
            "from": iso_utc(self.starts_at),
            "to": iso_utc(self.ends_at),
            "layer": self.layer or None,
            "gap": self.gap,
            "override": self.override.id if self.override else None,
            "swap": self.swap.id if self.swap else None,
        }


@dataclass(frozen=True)
class DayCell:
    """One rotation on one local day of a month grid."""

    day: date
    rotation: str
    holders: tuple[str, ...]  # in order through the day; "" marks a gap
    handoff: bool  # the holder changes during the day
    override: bool  # an override holds some of the day
    swap: bool  # a taken swap holds some of the day
    open_swap: bool  # someone offers some of the day in a swap nobody took yet
    gap: bool  # nobody holds some of the day

    @property
    def holder(self) -> str:
        """The first person holding the day ("" if nobody does)."""
        return next((h for h in self.holders if h), "")


def find_rotation(config: Config, name: str) -> RotationConfig:
    for rotation in config.rotations:
        if rotation.name == name:
            return rotation
    names = [r.name for r in config.rotations]
    known = ", ".join(names) or "none configured"
    raise UsageError(f"unknown rotation {name!r}{did_you_mean(name, names)} (known: {known})")


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("rotation times must be timezone-aware")
    return at.astimezone(UTC)


class _Plan:
    """One rotation's layers plus the overrides and swaps of a time range, evaluated."""

    def __init__(
        self,
        rotation: RotationConfig,
        overrides: list[store.Override],
        swaps: list[store.Swap],
    ):
        self.name = rotation.name
        self.layers: tuple[Layer, ...] = compile_rotation(rotation)
        self.overrides = [o for o in overrides if o.rotation == rotation.name]
        self.swaps = sorted(
            (s for s in swaps if s.rotation == rotation.name and s.taken),
            key=lambda s: (s.taken_at, s.id),
        )

    def at(self, t: datetime) -> tuple[str, str, store.Override | None, store.Swap | None]:
        """(holder, layer, override, swap) at instant `t`."""
        holder, layer = "", ""
        for candidate in reversed(self.layers):
            who = candidate.holder(t)
            if who is not None:
                holder, layer = who, candidate.name
                break
        swap = None
        for s in self.swaps:
            if holder and s.covers(t) and s.requested_by == holder:
                holder, swap = s.taken_by or "", s
        override = None
        for o in self.overrides:
            if o.covers(t):
                override = o
        if override is not None:
            return override.who, "", override, None
        return holder, layer, None, swap

    def breakpoints(self, lo: datetime, hi: datetime) -> list[datetime]:
        points = {lo}
        for layer in self.layers:
            points.update(layer.breakpoints(lo, hi))
        for item in (*self.overrides, *self.swaps):
            points.update(t for t in (item.starts_at, item.until) if lo <= t < hi)
        return sorted(points)

    def segments(self, lo: datetime, hi: datetime) -> list[Segment]:
        """The schedule over [lo, hi), consecutive equal stretches merged."""
        out: list[Segment] = []
        if hi <= lo:
            return out
        points = self.breakpoints(lo, hi)
        for start, end in zip(points, [*points[1:], hi], strict=True):
            holder, layer, override, swap = self.at(start)
            if out and (out[-1].holder, out[-1].override, out[-1].swap) == (
                holder,
                override,
                swap,
            ):
                out[-1] = Segment(
                    self.name, holder, out[-1].starts_at, end, out[-1].layer, override, swap
                )
            else:
                out.append(Segment(self.name, holder, start, end, layer, override, swap))
        return out


def _load(
    db_path: RotationSource | None, lo: datetime, hi: datetime
) -> tuple[list[store.Override], list[store.Swap]]:
    if db_path is None:
        return [], []
    from console.store.backends import open_rotation  # the PostgreSQL store only when used

    with open_rotation(db_path) as db:
        return db.overrides(lo, hi), db.swaps(lo, hi)


def _known_at(
    overrides: list[store.Override], swaps: list[store.Swap], at: datetime
) -> tuple[list[store.Override], list[store.Swap]]:
    # Changes are stamped to the second: one made in the same second as `at` may
    # have come after it, so it does not count.
    known_by = at.replace(microsecond=0)
    known = [
        replace(o, cancelled_at=None, cancelled_by=None)
        if o.cancelled_at is not None and o.cancelled_at >= known_by
        else o
        for o in overrides
        if o.created_at < known_by
    ]
    taken = [
        s
        if s.taken_at is not None and s.taken_at < known_by
        else replace(s, taken_by=None, taken_at=None)
        for s in swaps
    ]
    return known, taken


def timeline(
    config: Config, rotation: str, lo: datetime, hi: datetime, db_path: RotationSource | None = None
) -> list[Segment]:
    """The final schedule of one rotation over [lo, hi), stretch by stretch.

    The first and last segments are cut at `lo` and `hi`. `db_path` None leaves out
    overrides and swaps (the configured schedule alone).
    """
    lo, hi = _utc(lo), _utc(hi)
    overrides, swaps = _load(db_path, lo, hi)
    return _Plan(find_rotation(config, rotation), overrides, swaps).segments(lo, hi)


def stretches(
    config: Config,
    lo: datetime,
    hi: datetime,
    db_path: RotationSource | None = None,
    *,
    rotation: str | None = None,
    gaps: bool = True,
) -> list[Segment]:
    """Every stretch overlapping [lo, hi), whole (not cut at the edges), rotation by rotation.

    Stretches longer than `_STEP` beyond an edge are cut there. `gaps` False leaves
    gaps out; `rotation` keeps one rotation.
    """
    names = (
        [find_rotation(config, rotation).name] if rotation else [r.name for r in config.rotations]
    )
    lo, hi = _utc(lo), _utc(hi)
    out: list[Segment] = []
    for name in names:
        for segment in timeline(config, name, lo - _STEP, hi + _STEP, db_path):
            if segment.ends_at > lo and segment.starts_at < hi and (gaps or not segment.gap):
                out.append(segment)
    return out


def holder_at(
    config: Config,
    rotation: str,
    at: datetime,
    db_path: RotationSource | None,
    *,
    as_known: bool = False,
) -> str | None:
    """Who holds `rotation` at instant `at`, overrides and swaps included; None in a gap.

    `as_known` counts only the changes made by `at` (overrides created and swaps taken
    by then, cancellations after it ignored): who held it as the team knew it then,
    which nothing done later can rewrite. An unknown rotation name is a `UsageError`.
    """
    at = _utc(at)
    overrides, swaps = _load(db_path, at, at + timedelta(seconds=1))
    if as_known:
        overrides, swaps = _known_at(overrides, swaps, at)
    holder = _Plan(find_rotation(config, rotation), overrides, swaps).at(at)[0]
    return holder or None


def _slot(plan: _Plan, at: datetime) -> RotationSlot:
    current = plan.segments(at, at + timedelta(seconds=1))[0]
    since: datetime | None = None
    lo = at
    while since is None and at - lo < HORIZON:
        back = plan.segments(lo - _STEP, lo)
        for segment in reversed(back):
            if segment.holder != current.holder:
                since = segment.ends_at
                break
        lo -= _STEP
    handoff_at, next_holder = None, current.holder
    hi = at
    while handoff_at is None and hi - at < HORIZON:
        for segment in plan.segments(hi, hi + _STEP):
            if segment.holder != current.holder:
                handoff_at, next_holder = segment.starts_at, segment.holder
                break
        hi += _STEP
    if handoff_at is None:  # nobody else in sight: the next turn is the handoff
        turns = [layer.shift(at)[1] for layer in plan.layers if layer.active(at)]
        later = [t for t in plan.breakpoints(at, at + HORIZON) if t > at]
        handoff_at = min(turns or later or [at + HORIZON])
    return RotationSlot(
        rotation=plan.name,
        holder=current.holder,
        next_holder=next_holder,
        handoff_at=handoff_at,
        gap=current.gap,
        override=current.override is not None,
        swap=current.swap is not None,
        since=since,
    )


def slots_at(config: Config, at: datetime, db_path: RotationSource | None) -> list[RotationSlot]:
    """Every rotation's holder at `at`, the next holder and when the handoff is.

    `since` is when the current holder (or gap) began, None if not within the
    horizon. A handoff is a change of holder, not a turn that keeps the same person.
    """
    at = _utc(at)
    overrides, swaps = _load(db_path, at - HORIZON, at + HORIZON)
    return [_slot(_Plan(r, overrides, swaps), at) for r in config.rotations]


def day_span(day: date, tz_name: str) -> tuple[datetime, datetime]:
    """The UTC instants a local day in `tz_name` starts and ends at (23-25 hours)."""
    tz = zone(tz_name, "time zone")
    return (
        aware(datetime.combine(day, time()), tz),
        aware(datetime.combine(day + timedelta(days=1), time()), tz),
    )


def month_grid(
    config: Config, year: int, month: int, db_path: RotationSource | None
) -> list[DayCell]:
    """Each rotation on each day of a month, days in the rotation's time zone.

    Ordered by day, then by rotation in config order; the caller lays them out in weeks.
    """
    if not 1 <= month <= 12:
        raise UsageError(f"month {month} is not 1 to 12")
    days = [date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]
    first, _ = day_span(days[0], "UTC")
    lo, hi = first - timedelta(days=2), first + timedelta(days=len(days) + 2)
    overrides, swaps = _load(db_path, lo, hi)
    open_swaps = [s for s in swaps if not s.taken]
    per_rotation = {}
    for rotation in config.rotations:
        plan = _Plan(rotation, overrides, swaps)
        spans = [day_span(d, rotation.timezone) for d in days]
        # From the day before, so a handoff at the first day's start is seen as one.
        segments = plan.segments(spans[0][0] - timedelta(days=1), spans[-1][1])
        per_rotation[rotation.name] = (segments, spans)
    cells = []
    for index, day in enumerate(days):
        for rotation in config.rotations:
            segments, spans = per_rotation[rotation.name]
            start, end = spans[index]
            cells.append(_cell(rotation.name, day, start, end, segments, open_swaps))
    return cells


def _cell(
    rotation: str,
    day: date,
    start: datetime,
    end: datetime,
    segments: list[Segment],
    open_swaps: list[store.Swap],
) -> DayCell:
    holders: list[str] = []
    handoff = False
    inside = []
    for index, segment in enumerate(segments):
        if segment.ends_at <= start or segment.starts_at >= end:
            continue
        inside.append(segment)
        if not holders or holders[-1] != segment.holder:
            holders.append(segment.holder)
        if segment.starts_at >= start and index and segments[index - 1].holder != segment.holder:
            handoff = True
    return DayCell(
        day=day,
        rotation=rotation,
        holders=tuple(holders),
        handoff=handoff,
        override=any(s.override is not None for s in inside),
        swap=any(s.swap is not None for s in inside),
        open_swap=any(
            s.rotation == rotation and s.starts_at < end and s.ends_at > start for s in open_swaps
        ),
        gap=any(s.gap for s in inside),
    )
