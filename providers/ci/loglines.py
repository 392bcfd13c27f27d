"""A CI job's log text as `LogLine`s: both GitHub and GitLab prefix lines with a time."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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


@dataclass(frozen=True)
class History:
    """Job logs as they stand: the lines to show, and how many raw lines of each job's
    log they cover, so following them goes on from there instead of from the start."""

    lines: list[LogLine]
    covered: dict[Any, int]


def history(
    texts: Iterable[tuple[Any, str, str]], *, since: timedelta | None, tail: int | None
) -> History:
    """`texts` are (job id, job name, log text); `since` and `tail` apply to them all,
    in `quorum logs` and `quorum logs --follow` alike, as kubectl's do."""
    lines: list[LogLine] = []
    covered: dict[Any, int] = {}
    for key, name, text in texts:
        raw = text.splitlines()
        covered[key] = len(raw)
        lines += lines_of(raw, name, since=since)
    # lines[-0:] would be every line: `--tail 0` means none, then only what comes.
    return History(lines[max(len(lines) - tail, 0) :] if tail is not None else lines, covered)
