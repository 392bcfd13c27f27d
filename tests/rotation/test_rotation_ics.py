"""The iCalendar feed, parsed back with `icalendar`, equals the rendered schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime

from icalendar import Calendar

from console.config.sandbox_team import sandbox_config
from console.domain.settings import Config, Restriction, RotationConfig
from console.rotation.ics import render_ics
from console.rotation.schedule import stretches
from tests.rotation_support import create_override


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def events(document: bytes) -> list[tuple[str, datetime, datetime, str, str]]:
    calendar = Calendar.from_ical(document)
    return [
        (
            str(e["summary"]),
            e.decoded("dtstart"),
            e.decoded("dtend"),
            str(e["description"]),
            str(e["uid"]),
        )
        for e in calendar.walk("VEVENT")
    ]


def test_feed_equals_the_schedule_with_overrides(tmp_path):
    db = tmp_path / "audit.db"
    config = sandbox_config()
    create_override(
        config,
        "on-call",
        "alice",
        utc(2027, 1, 6),
        utc(2027, 1, 8),
        "covering",
        db,
        by=config.members[0],
        now=utc(2026, 12, 1),
    )
    lo, hi = utc(2026, 12, 15), utc(2027, 3, 15)
    document = render_ics(config, lo, hi, db, now=utc(2026, 12, 1))
    expected = [
        (f"{s.rotation}: {s.holder}", s.starts_at, s.ends_at, s.why)
        for s in stretches(config, lo, hi, db, gaps=False)
    ]
    parsed = events(document)
    assert [e[:4] for e in parsed] == expected
    assert (
        "on-call: alice",
        utc(2027, 1, 6),
        utc(2027, 1, 8),
        "override by " + config.members[0] + ": covering",
    ) in [e[:4] for e in parsed]
    assert [e[0] for e in parsed if e[0].startswith("infrastructure")] == [
        "infrastructure: Collective infrastructure planning",
        "infrastructure: go-systems-developer",
        "infrastructure: flask-web-developer",
        "infrastructure: devops-coordinator",
    ]
    assert len({e[4] for e in parsed}) == len(parsed)  # unique UIDs
    calendar = Calendar.from_ical(document)
    assert (str(calendar["version"]), str(calendar["prodid"])) == (
        "2.0",
        "-//Quorum//rotation schedule//EN",
    )


def test_feed_uids_are_stable_between_renders(tmp_path):
    config = sandbox_config()
    first = events(render_ics(config, utc(2027, 1, 1), utc(2027, 2, 1), None, now=utc(2026, 1, 1)))
    again = events(render_ics(config, utc(2027, 1, 1), utc(2027, 2, 1), None, now=utc(2026, 6, 1)))
    assert [e[4] for e in first] == [e[4] for e in again]


def test_gaps_appear_only_when_asked():
    config = Config(
        team_name="t",
        rotations=(
            RotationConfig(
                name="office",
                every="week",
                members=("ann",),
                start=date(2026, 1, 5),
                restrictions=(Restriction(days=(0, 1, 2, 3, 4), start="09:00", end="17:00"),),
            ),
        ),
    )
    lo, hi = utc(2026, 1, 5, 12), utc(2026, 1, 10)
    plain = events(render_ics(config, lo, hi, None))
    assert [(e[0], e[1], e[2]) for e in plain] == [
        ("office: ann", utc(2026, 1, day, 9), utc(2026, 1, day, 17)) for day in range(5, 10)
    ]
    with_gaps = events(render_ics(config, lo, hi, None, gaps=True))
    assert [e[0] for e in with_gaps].count("office: nobody (gap)") == 5
