"""A CI job's log text as `LogLine`s: both GitHub and GitLab prefix lines with a time."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from console.domain.model import LogLine, utcnow
from providers.ci.times import parse_time

_STAMPED = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?)\s(.*)$", re.DOTALL)
_LEVEL = re.compile(r"^##\[(error|warning|notice|debug|group|endgroup)\]", re.IGNORECASE)


def line_of(text: str, source: str, fallback: datetime) -> LogLine:
    """One line; a line without a leading time takes the previous line's."""
    found = _STAMPED.match(text)
    ts = parse_time(found.group(1)) if found else None
    body = found.group(2) if found else text
    level = _LEVEL.match(body)
    return LogLine(
        ts=ts or fallback,
        text=body,
        level=level.group(1).lower()
        if level and level.group(1).lower() in ("error", "warning")
        else "",
        source=source,
    )


def lines_of(texts: Iterable[str], source: str, *, since: timedelta | None = None) -> list[LogLine]:
    out: list[LogLine] = []
    last = utcnow()
    cutoff = utcnow() - since if since else None
    for text in texts:
        line = line_of(text, source, last)
        last = line.ts
        if cutoff is None or line.ts >= cutoff:
            out.append(line)
    return out
