"""Properties of the schedule over generated rotations, zones and ranges.

Zones include half-hour daylight saving (Australia/Lord_Howe), a zone without it
(Asia/Kolkata) and southern-hemisphere changes, so wall-clock handoffs are checked
far beyond the two zones of the example tests.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain.settings import Config, Restriction, RotationConfig
from console.rotation.schedule import timeline

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Santiago",
]
PEOPLE = ["ann", "ben", "cy", "dee", "eve"]

clock = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
starts = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))
ranges = st.tuples(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 6, 1)),
    st.integers(min_value=1, max_value=90),
)


def exists(local: datetime, tz: ZoneInfo) -> bool:
    """Whether a wall-clock time happens in `tz` (it does not in a spring-forward gap)."""
    there = local.replace(tzinfo=tz)
    return there.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local


def contiguous(segments, lo, hi) -> None:
    assert segments[0].starts_at == lo and segments[-1].ends_at == hi
    for a, b in zip(segments, segments[1:], strict=False):
        assert a.ends_at == b.starts_at
        assert a.starts_at < a.ends_at
        assert (a.holder, a.override, a.swap) != (b.holder, b.override, b.swap)


@settings(max_examples=80, deadline=None)
@given(
    every=st.sampled_from(["day", "week", "month"]),
    count=st.integers(min_value=2, max_value=5),
    zone=st.sampled_from(ZONES),
    handoff=clock,
    start=starts,
    span=ranges,
)
def test_handoffs_land_on_the_wall_clock_and_cycle_the_members(
    every, count, zone, handoff, start, span
):
    tz = ZoneInfo(zone)
    members = tuple(PEOPLE[:count])
    rotation = RotationConfig(
        name="r",
        every=every,
        members=members,
        start=start,
        handoff=handoff.strftime("%H:%M"),
        timezone=zone,
    )
    lo = span[0].replace(tzinfo=UTC)
    hi = lo + timedelta(days=span[1])
    segments = timeline(Config(rotations=(rotation,)), "r", lo, hi)
    contiguous(segments, lo, hi)
    held = [s for s in segments if not s.gap]
    for before, after in zip(held, held[1:], strict=False):
        assert members.index(after.holder) == (members.index(before.holder) + 1) % count
    for segment in held:
        if segment.starts_at == lo:
            continue
        local = segment.starts_at.astimezone(tz).replace(tzinfo=None)
        wanted = datetime.combine(local.date(), handoff)
        if exists(wanted, tz):
            assert local == wanted
        else:  # the handoff time does not exist that day: it is read before the change
            assert local.date() == wanted.date() and local > wanted
        if every == "week":
            assert local.weekday() == start.weekday()
        if every == "month":
            last = calendar.monthrange(local.year, local.month)[1]
            assert local.day == min(start.day, last)


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    days=st.sets(st.integers(0, 6), min_size=1),
    window=st.tuples(clock, clock).filter(lambda w: w[0] != w[1]),
    every=st.sampled_from(["day", "week", "8h"]),
    span=ranges,
)
def test_restricted_stretches_lie_inside_their_windows(zone, days, window, every, span):
    tz = ZoneInfo(zone)
    start_at, end_at = window
    rotation = RotationConfig(
        name="r",
        every=every,
        members=("ann", "ben"),
        # Before every generated range in every zone: time before the start is a gap
        # for another reason than the restriction this test is about.
        start=date(2024, 12, 30),
        timezone=zone,
        restrictions=(
            Restriction(
                days=tuple(sorted(days)),
                start=start_at.strftime("%H:%M"),
                end=end_at.strftime("%H:%M"),
            ),
        ),
    )
    lo = span[0].replace(tzinfo=UTC)
    hi = lo + timedelta(days=span[1])
    segments = timeline(Config(rotations=(rotation,)), "r", lo, hi)
    contiguous(segments, lo, hi)
    for segment in segments:
        middle = segment.starts_at + (segment.ends_at - segment.starts_at) / 2
        local = middle.astimezone(tz)
        inside = False
        for back in (0, 1):
            day = local.date() - timedelta(days=back)
            if day.weekday() not in days:
                continue
            opens = datetime.combine(day, start_at, tzinfo=tz)
            end_day = day if end_at > start_at else day + timedelta(days=1)
            closes = datetime.combine(end_day, end_at, tzinfo=tz)
            inside = inside or opens <= middle < closes
        assert segment.gap == (not inside)
