"""One layer of a rotation as pure calendar arithmetic: shifts, restrictions, holders.

Shift boundaries are computed as local wall-clock times in the layer's named time
zone and only then turned into instants, never as UTC durations: a weekly handoff at
09:00 Europe/Berlin stays at 09:00 across daylight-saving changes (that shift is 167
or 169 hours long in UTC, as it should be), which is the on-call tools' most
reported bug. A wall-clock time that does not exist (the spring-forward hour) is read
with the offset before the change, so it lands an hour later on the clock; an
ambiguous one (the fall-back hour) is its first occurrence.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from console.domain.errors import UsageError
from console.domain.settings import Restriction, RotationConfig, RotationLayer

_HOURS = re.compile(r"^([1-9][0-9]*)h$")
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


def parse_clock(text: str, what: str) -> time:
    """`HH:MM` as a time of day; anything else is a usage error naming `what`."""
    match = _CLOCK.match(text)
    if not match:
        raise UsageError(f"{what}: {text!r} is not a time of day HH:MM")
    return time(int(match.group(1)), int(match.group(2)))


def zone(name: str, what: str) -> ZoneInfo:
    """The named time zone; an unknown name is a usage error naming `what`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"{what}: unknown time zone {name!r}") from None


def aware(local: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant a naive local wall-clock time in `tz` stands for."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _add_months(day: date, months: int, anchor_day: int) -> date:
    """`day` moved by whole months, on `anchor_day` or the month's last day if shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Window:
    """A restriction compiled to times of day."""

    days: frozenset[int]
    start: time
    end: time

    def spans(self, tz: ZoneInfo, around: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The window's occurrences (UTC start, end) that could contain `around`."""
        local_day = around.astimezone(tz).date()
        for offset in (-1, 0):
            day = local_day + timedelta(days=offset)
            if day.weekday() not in self.days:
                continue
            end_day = day if self.end > self.start else day + timedelta(days=1)
            yield (
                aware(datetime.combine(day, self.start), tz),
                aware(datetime.combine(end_day, self.end), tz),
            )


@dataclass(frozen=True)
class Layer:
    """A compiled layer: what `holder`, `shift` and `breakpoints` are computed from."""

    name: str
    members: tuple[str, ...]
    tz: ZoneInfo
    unit: str  # "month" or "hours"
    step: int  # hours per shift (unit "hours"); 1 for months
    origin: datetime  # naive local wall-clock time of shift 0
    until: datetime | None  # naive local wall-clock end of the layer
    windows: tuple[Window, ...]

    def boundary(self, index: int) -> datetime:
        """The UTC instant shift number `index` starts at."""
        if self.unit == "month":
            day = _add_months(self.origin.date(), index, self.origin.day)
            local = datetime.combine(day, self.origin.time())
        else:
            local = self.origin + timedelta(hours=self.step * index)
        return aware(local, self.tz)

    def index_at(self, at: datetime) -> int:
        """The number of the shift running at `at` (negative before the layer starts)."""
        local = at.astimezone(self.tz).replace(tzinfo=None)
        if self.unit == "month":
            guess = (local.year - self.origin.year) * 12 + local.month - self.origin.month
        else:
            guess = int((local - self.origin) // timedelta(hours=self.step))
        while self.boundary(guess) > at:
            guess -= 1
        while self.boundary(guess + 1) <= at:
            guess += 1
        return guess

    @property
    def starts_at(self) -> datetime:
        return aware(self.origin, self.tz)

    @property
    def ends_at(self) -> datetime | None:
        return aware(self.until, self.tz) if self.until else None

    def active(self, at: datetime) -> bool:
        """Within the layer's life and, if it has restrictions, inside one of them."""
        if at < self.starts_at or (self.ends_at is not None and at >= self.ends_at):
            return False
        if not self.windows:
            return True
        return any(lo <= at < hi for window in self.windows for lo, hi in window.spans(self.tz, at))

    def holder(self, at: datetime) -> str | None:
        """Who this layer puts on duty at `at`, or None where it leaves a gap."""
        if not self.active(at):
            return None
        return self.members[self.index_at(at) % len(self.members)]

    def shift(self, at: datetime) -> tuple[datetime, datetime]:
        """The (UTC start, end) of the shift running at `at`, restrictions aside."""
        index = self.index_at(at)
        return self.boundary(index), self.boundary(index + 1)

    def breakpoints(self, lo: datetime, hi: datetime) -> Iterator[datetime]:
        """Every instant in [lo, hi) where this layer's holder may change."""
        for edge in (self.starts_at, self.ends_at):
            if edge is not None and lo <= edge < hi:
                yield edge
        if len(set(self.members)) > 1:  # one person's turns never change the holder
            index = self.index_at(lo)
            edge = self.boundary(index)
            while edge < hi:
                if edge >= lo:
                    yield edge
                index += 1
                edge = self.boundary(index)
        if self.windows:
            day = lo
            while day < hi + timedelta(days=1):
                for window in self.windows:
                    for start, end in window.spans(self.tz, day):
                        yield from (t for t in (start, end) if lo <= t < hi)
                day += timedelta(days=1)


def _turn(every: str, what: str) -> tuple[str, int]:
    if every == "month":
        return "month", 1
    if every == "week":
        return "hours", 7 * 24
    if every == "day":
        return "hours", 24
    match = _HOURS.match(every)
    if match:
        return "hours", int(match.group(1))
    raise UsageError(f"{what}: every = {every!r}; expected month, week, day or <N>h")


def _windows(restrictions: tuple[Restriction, ...], what: str) -> tuple[Window, ...]:
    out = []
    for r in restrictions:
        if not r.days or any(d not in range(7) for d in r.days):
            raise UsageError(f"{what}: restriction days must be weekdays 0 (Monday) to 6")
        out.append(
            Window(
                frozenset(r.days),
                parse_clock(r.start, f"{what} restriction start"),
                parse_clock(r.end, f"{what} restriction end"),
            )
        )
    return tuple(out)


def compile_layer(layer: RotationLayer, rotation_tz: str, what: str) -> Layer:
    """A config layer checked and turned into a `Layer`; bad values are usage errors."""
    if not layer.members:
        raise UsageError(f"{what}: a rotation needs at least one member")
    unit, step = _turn(layer.every, what)
    handoff = parse_clock(layer.handoff, f"{what} handoff")
    return Layer(
        name=layer.name,
        members=tuple(layer.members),
        tz=zone(layer.timezone or rotation_tz, what),
        unit=unit,
        step=step,
        origin=datetime.combine(layer.start, handoff),
        until=datetime.combine(layer.end, handoff) if layer.end else None,
        windows=_windows(layer.restrictions, what),
    )


def compile_rotation(rotation: RotationConfig) -> tuple[Layer, ...]:
    """The rotation's layers, its own fields first: later layers win."""
    base = RotationLayer(
        name=rotation.name,
        every=rotation.every,
        members=rotation.members,
        start=rotation.start,
        handoff=rotation.handoff,
        timezone=rotation.timezone,
        restrictions=rotation.restrictions,
    )
    layers = [compile_layer(base, rotation.timezone, f"rotation {rotation.name!r}")]
    for layer in rotation.layers:
        what = f"rotation {rotation.name!r} layer {layer.name!r}"
        layers.append(compile_layer(layer, rotation.timezone, what))
    return tuple(layers)
