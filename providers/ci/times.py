"""Timestamps and durations as CI APIs write them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time (`Z`, offsets, up to 7 fractional digits); None when absent or bad."""
    if not isinstance(value, str) or not value:
        return None
    text = _FRACTION.sub(r"\1", value.replace("Z", "+00:00"))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def took(start: datetime | None, end: datetime | None) -> str:
    """`3m12s` between two times; "" when either is unknown."""
    if start is None or end is None or end < start:
        return ""
    seconds = int((end - start) / timedelta(seconds=1))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"
