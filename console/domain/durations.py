"""Durations as people write them: "90s", "30m", "24h", "7d", "2w", or "1h30m".

One parser serves the config (`vote_ttl`) and the command line (`--since`), so a
duration means the same thing everywhere. Units are lower-case and there is no
month unit, so "m" is always minutes.
"""

from __future__ import annotations

import argparse
import re
from datetime import timedelta

from console.domain.inert import echo

_UNITS: dict[str, timedelta] = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_PART = re.compile(r"([0-9]+)([smhdw])")
_WHOLE = re.compile(r"(?:[0-9]+[smhdw])+")
# Far beyond any vote's validity or log window, and far below timedelta's own limit.
MAX_DURATION = timedelta(weeks=520)
_MAX_SECONDS = int(MAX_DURATION.total_seconds())
MAX_DIGITS = 12

HINT = "use a whole number and a unit s, m, h, d or w: 90s, 30m, 24h, 7d, 1h30m"


class DurationError(ValueError):
    """A duration that does not parse; `str()` is a one-line message for users."""


def parse_duration(text: str) -> timedelta:
    """The timedelta `text` names; raises DurationError with a hint when it names none."""
    if not isinstance(text, str):
        raise DurationError(f"expected a duration string, {HINT}")
    cleaned = text.strip()
    if not _WHOLE.fullmatch(cleaned):
        shown = echo(text)
        raise DurationError(f"invalid duration{f' {shown}' if shown else ''}; {HINT}")
    seconds = 0
    for count, unit in _PART.findall(cleaned):
        if len(count.lstrip("0")) > MAX_DIGITS:  # int() of 5,000 digits is refused anyway
            seconds = _MAX_SECONDS + 1
            break
        seconds += int(count) * int(_UNITS[unit].total_seconds())
    if seconds > _MAX_SECONDS:
        raise DurationError(f"duration too long: at most {MAX_DURATION.days // 7}w")
    return timedelta(seconds=seconds)


def duration_type(text: str) -> timedelta:
    """`parse_duration` for argparse's `type=`, so a bad `--since` gets our message."""
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
