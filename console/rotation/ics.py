"""The schedule as an iCalendar feed, for calendar programs to import or subscribe to.

One event per stretch of the final schedule (overrides and swaps included), in UTC
so every program places it right whatever its own zone. An event's UID is its
rotation and start, so a refreshed feed updates events instead of duplicating them.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from icalendar import Calendar, Event

from console.domain.model import utcnow
from console.domain.settings import Config
from console.rotation.schedule import Segment, stretches
from console.store.backends import RotationSource

PRODID = "-//Quorum//rotation schedule//EN"


def _slug(name: str) -> str:
    """A readable, unique form of a rotation's name (the digest tells `On call` from `on-call`)."""
    readable = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "rotation"
    return f"{readable}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"


def event_uid(segment: Segment) -> str:
    start = segment.starts_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{_slug(segment.rotation)}-{start}@quorum"


def summary(segment: Segment) -> str:
    return f"{segment.rotation}: {segment.holder or 'nobody (gap)'}"


def render_ics(
    config: Config,
    lo: datetime,
    hi: datetime,
    db_path: RotationSource | None,
    *,
    gaps: bool = False,
    now: datetime | None = None,
) -> bytes:
    """The iCalendar document of the schedule over [lo, hi); `gaps` adds gap events."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{config.team_name} rotations")
    stamp = now or utcnow()
    for segment in stretches(config, lo, hi, db_path, gaps=gaps):
        event = Event()
        event.add("uid", event_uid(segment))
        event.add("dtstamp", stamp)
        event.add("dtstart", segment.starts_at)
        event.add("dtend", segment.ends_at)
        event.add("summary", summary(segment))
        event.add("description", segment.why)
        event.add("categories", [segment.rotation])
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()
