"""The configured schedule: turns, handoffs across daylight saving, layers, restrictions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from console.config.sandbox_team import SEED_ROTATION_MEMBERS, sandbox_config
from console.domain.errors import UsageError
from console.domain.settings import Config, Restriction, RotationConfig, RotationLayer
from console.rotation.schedule import holder_at, month_grid, slots_at, stretches, timeline

SEEDS = Config(
    rotations=(
        RotationConfig(
            name="infrastructure",
            every="month",
            members=SEED_ROTATION_MEMBERS,
            start=date(2026, 1, 1),
        ),
    )
)

# The seeds' published schedule, month by month.
SEED_SCHEDULE = {
    1: "go-systems-developer",
    2: "flask-web-developer",
    3: "devops-coordinator",
    4: "consensus-coordinator",
    5: "All technical agents review",
    6: "Collective infrastructure planning",
    7: "go-systems-developer",
    8: "flask-web-developer",
    9: "devops-coordinator",
    10: "consensus-coordinator",
    11: "All technical agents review",
    12: "Collective infrastructure planning",
}


def one(rotation: RotationConfig) -> Config:
    return Config(rotations=(rotation,))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("year", [2026, 2027])
@pytest.mark.parametrize("month", range(1, 13))
def test_seed_schedule_every_month(tmp_path, year, month):
    db = tmp_path / "audit.db"
    first = utc(year, month, 1)
    last = utc(year, month + 1, 1) - timedelta(seconds=1) if month < 12 else utc(year, 12, 31, 23)
    assert holder_at(SEEDS, "infrastructure", first, db) == SEED_SCHEDULE[month]
    assert holder_at(SEEDS, "infrastructure", last, db) == SEED_SCHEDULE[month]


def test_seed_schedule_is_the_sandbox_one():
    rotation = next(r for r in sandbox_config().rotations if r.name == "infrastructure")
    assert rotation.members == SEEDS.rotations[0].members
    segments = timeline(sandbox_config(), "infrastructure", utc(2026, 1, 1), utc(2028, 1, 1))
    assert [(s.starts_at.year, s.starts_at.month, s.holder) for s in segments] == [
        (year, month, SEED_SCHEDULE[month]) for year in (2026, 2027) for month in range(1, 13)
    ]


def test_nothing_holds_a_rotation_before_its_start(tmp_path):
    assert holder_at(SEEDS, "infrastructure", utc(2025, 12, 31, 23, 59), tmp_path / "a.db") is None


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York"])
def test_weekly_handoff_stays_at_local_nine_across_both_dst_changes(tz):
    config = one(
        RotationConfig(
            name="on-call",
            every="week",
            members=("ann", "ben", "cy"),
            start=date(2026, 1, 5),
            handoff="09:00",
            timezone=tz,
        )
    )
    zone = ZoneInfo(tz)
    segments = timeline(config, "on-call", utc(2026, 1, 5, 12), utc(2026, 12, 28))
    whole = segments[1:-1]  # the first and last are cut at the range's edges
    assert len(whole) >= 48
    utc_hours = set()
    for segment in whole:
        start = segment.starts_at.astimezone(zone)
        end = segment.ends_at.astimezone(zone)
        assert (start.hour, start.minute, start.weekday()) == (9, 0, 0)
        assert end.replace(tzinfo=None) - start.replace(tzinfo=None) == timedelta(days=7)
        utc_hours.add((segment.ends_at - segment.starts_at) / timedelta(hours=1))
    # Both changes were crossed: one shift an hour short and one an hour long in UTC.
    assert utc_hours == {167.0, 168.0, 169.0}
    holders = [s.holder for s in whole]
    assert all(a != b for a, b in zip(holders, holders[1:], strict=False))


def test_month_turn_on_the_31st_uses_the_last_day_of_short_months():
    config = one(
        RotationConfig(name="r", every="month", members=("a", "b"), start=date(2026, 1, 31))
    )
    starts = [s.starts_at.date() for s in timeline(config, "r", utc(2026, 1, 31), utc(2026, 5, 1))]
    assert starts == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def test_hour_turns_keep_wall_clock_handoffs_across_dst():
    config = one(
        RotationConfig(
            name="r",
            every="12h",
            members=("day", "night"),
            start=date(2026, 3, 28),
            handoff="08:00",
            timezone="Europe/Berlin",
        )
    )
    zone = ZoneInfo("Europe/Berlin")
    segments = timeline(config, "r", utc(2026, 3, 28, 7), utc(2026, 3, 31, 5))
    local = [s.starts_at.astimezone(zone).strftime("%d %H:%M %Z") for s in segments]
    assert local == [
        "28 08:00 CET",
        "28 20:00 CET",
        "29 08:00 CEST",
        "29 20:00 CEST",
        "30 08:00 CEST",
        "30 20:00 CEST",
    ]
    assert [s.holder for s in segments[:3]] == ["day", "night", "day"]


def test_later_layer_wins_where_it_has_a_holder():
    config = one(
        RotationConfig(
            name="support",
            every="week",
            members=("ann", "ben"),
            start=date(2026, 1, 5),
            timezone="UTC",
            layers=(
                RotationLayer(
                    name="weekends",
                    every="week",
                    members=("wes",),
                    start=date(2026, 1, 5),
                    restrictions=(Restriction(days=(5,), start="00:00", end="00:00"),),
                    end=date(2026, 3, 2),
                ),
            ),
        )
    )
    # Monday 2026-01-12 starts ben's week; the weekend layer takes Sat-Sun only.
    assert timeline(config, "support", utc(2026, 1, 14), utc(2026, 1, 15))[0].holder == "ben"
    saturday = timeline(config, "support", utc(2026, 1, 17, 10), utc(2026, 1, 17, 11))[0]
    assert (saturday.holder, saturday.layer) == ("wes", "weekends")
    assert timeline(config, "support", utc(2026, 1, 19, 1), utc(2026, 1, 19, 2))[0].holder == "ann"
    # After the layer's end the base layer holds weekends again.
    after = timeline(config, "support", utc(2026, 3, 7, 10), utc(2026, 3, 7, 11))[0]
    assert (after.holder, after.layer) == ("ann", "support")


def test_restrictions_leave_gaps_that_are_reported():
    config = one(
        RotationConfig(
            name="office",
            every="week",
            members=("ann", "ben"),
            start=date(2026, 1, 5),
            handoff="09:00",
            timezone="Europe/Berlin",
            restrictions=(Restriction(days=(0, 1, 2, 3, 4), start="09:00", end="17:00"),),
        )
    )
    zone = ZoneInfo("Europe/Berlin")
    lo = datetime(2026, 1, 5, 9, tzinfo=zone)
    segments = timeline(config, "office", lo, lo + timedelta(days=7))
    held = [s for s in segments if not s.gap]
    gaps = [s for s in segments if s.gap]
    assert [(s.starts_at.astimezone(zone).hour, s.ends_at.astimezone(zone).hour) for s in held] == [
        (9, 17)
    ] * 5
    assert {s.holder for s in held} == {"ann"}
    assert len(gaps) == 5  # four nights and the weekend
    assert gaps[-1].ends_at - gaps[-1].starts_at == timedelta(hours=64)
    saturday = datetime(2026, 1, 10, 12, tzinfo=zone)
    slot = slots_at(config, saturday, None)[0]
    assert (slot.gap, slot.holder, slot.next_holder) == (True, "", "ben")
    assert slot.handoff_at == datetime(2026, 1, 12, 9, tzinfo=zone)


def test_overnight_restriction_spans_midnight():
    config = one(
        RotationConfig(
            name="nights",
            every="day",
            members=("owl",),
            start=date(2026, 1, 1),
            restrictions=(Restriction(start="22:00", end="06:00"),),
        )
    )
    assert (
        timeline(config, "nights", utc(2026, 1, 2, 23), utc(2026, 1, 2, 23, 1))[0].holder == "owl"
    )
    assert timeline(config, "nights", utc(2026, 1, 3, 5), utc(2026, 1, 3, 5, 1))[0].holder == "owl"
    assert timeline(config, "nights", utc(2026, 1, 3, 12), utc(2026, 1, 3, 13))[0].gap


def test_slots_at_gives_holder_next_and_handoff():
    config = sandbox_config()
    slots = {s.rotation: s for s in slots_at(config, utc(2026, 3, 10, 12), None)}
    infra = slots["infrastructure"]
    assert (infra.holder, infra.next_holder) == ("devops-coordinator", "consensus-coordinator")
    assert (infra.since, infra.handoff_at) == (utc(2026, 3, 1), utc(2026, 4, 1))
    on_call = slots["on-call"]
    assert on_call.since == utc(2026, 3, 9, 9)
    assert on_call.handoff_at == utc(2026, 3, 16, 9)
    assert on_call.next_holder != on_call.holder


def test_slot_of_a_single_member_rotation_has_a_next_turn():
    config = one(
        RotationConfig(name="solo", every="week", members=("ann",), start=date(2026, 1, 5))
    )
    slot = slots_at(config, utc(2026, 1, 7), None)[0]
    assert (slot.holder, slot.next_holder, slot.handoff_at) == ("ann", "ann", utc(2026, 1, 12))


def test_month_grid_marks_handoffs_and_gaps():
    config = one(
        RotationConfig(
            name="office",
            every="week",
            members=("ann", "ben"),
            start=date(2026, 1, 5),
            handoff="09:00",
            restrictions=(Restriction(days=(0, 1, 2, 3, 4), start="09:00", end="17:00"),),
        )
    )
    cells = {c.day: c for c in month_grid(config, 2026, 2, None)}
    assert len(cells) == 28
    monday = cells[date(2026, 2, 2)]
    assert monday.holders == ("", "ann", "")  # odd weeks from 2026-01-05: ann, ben, ann...
    assert monday.gap and monday.handoff
    sunday = cells[date(2026, 2, 1)]
    assert (sunday.holders, sunday.holder, sunday.gap) == (("",), "", True)
    assert not any(c.override or c.swap or c.open_swap for c in cells.values())


def test_month_grid_of_the_seeds_hands_off_on_the_first():
    cells = month_grid(SEEDS, 2027, 7, None)
    assert [c.day.day for c in cells if c.handoff] == [1]
    assert {c.holder for c in cells} == {"go-systems-developer"}


def test_stretches_are_whole_across_the_range_edges():
    found = stretches(SEEDS, utc(2026, 3, 10), utc(2026, 3, 11))
    assert [(s.starts_at, s.ends_at) for s in found] == [(utc(2026, 3, 1), utc(2026, 4, 1))]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"every": "fortnight"}, "every = 'fortnight'"),
        ({"handoff": "9am"}, "is not a time of day"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"members": ()}, "at least one member"),
    ],
)
def test_bad_rotation_settings_are_usage_errors(change, message):
    fields = dict(name="r", every="week", members=("a",), start=date(2026, 1, 5)) | change
    with pytest.raises(UsageError, match=message):
        slots_at(one(RotationConfig(**fields)), utc(2026, 2, 1), None)


def test_unknown_rotation_is_named(tmp_path):
    with pytest.raises(UsageError, match="unknown rotation 'nope' \\(known: infrastructure\\)"):
        holder_at(SEEDS, "nope", utc(2026, 2, 1), tmp_path / "a.db")


def test_handoff_in_the_hour_daylight_saving_skips_or_repeats():
    config = one(
        RotationConfig(
            name="r",
            every="day",
            members=("ann", "ben"),
            start=date(2026, 1, 1),
            handoff="02:30",
            timezone="Europe/Berlin",
        )
    )
    # 02:30 does not exist on 2026-03-29: the handoff is at 03:30 CEST (01:30 UTC).
    spring = timeline(config, "r", utc(2026, 3, 29, 0), utc(2026, 3, 29, 3))
    assert [s.starts_at for s in spring[1:]] == [utc(2026, 3, 29, 1, 30)]
    # 02:30 happens twice on 2026-10-25: the handoff is at the first (00:30 UTC).
    autumn = timeline(config, "r", utc(2026, 10, 25, 0), utc(2026, 10, 25, 3))
    assert [s.starts_at for s in autumn[1:]] == [utc(2026, 10, 25, 0, 30)]
