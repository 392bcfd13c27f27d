"""Durations as people write them: "90s", "30m", "24h", "7d", "2w", or "1h30m".

One parser serves the config (`vote_ttl`) and the command line (`--since`), so a
duration means the same thing everywhere. Units are lower-case and there is no
month unit, so "m" is always minutes.
"""

from __future__ import annotations

import argparse
import re
from datetime import timedelta

_UNITS: dict[str, timedelta] = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
_PART = re.compile(r"(\d+)([smhdw])")
_WHOLE = re.compile(r"(?:\d+[smhdw])+")

HINT = "use a whole number and a unit s, m, h, d or w: 90s, 30m, 24h, 7d, 1h30m"


class DurationError(ValueError):
    """A duration that does not parse; `str()` is a one-line message for users."""


def parse_duration(text: str) -> timedelta:
    """The timedelta `text` names; raises DurationError with a hint when it names none."""
    if not isinstance(text, str):
        raise DurationError(f"expected a duration string, {HINT}")
    cleaned = text.strip()
    if not _WHOLE.fullmatch(cleaned):
        raise DurationError(f"invalid duration {text!r}; {HINT}")
    return sum(
        (int(count) * _UNITS[unit] for count, unit in _PART.findall(cleaned)),
        timedelta(),
    )


def duration_type(text: str) -> timedelta:
    """`parse_duration` for argparse's `type=`, so a bad `--since` gets our message."""
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
