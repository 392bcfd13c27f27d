"""The largest numbers Quorum takes from a person, checked where they enter.

A count or a duration typed by hand is never meant to be 10^23: such a value is a
slip, and past a point it overflows a date, a SQLite integer or a backend's int32.
Each limit is far above any real use, and a value beyond it is one usage error.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable

MAX_REPLICAS = 10_000  # above any single workload; Kubernetes itself takes int32
MAX_LINES = 1_000_000  # `audit tail -n`, `logs --tail`
_WHOLE = re.compile(r"[+-]?[0-9]{1,18}")


def whole(text: str, low: int, high: int) -> int | None:
    """The whole number `text` holds when it lies from `low` to `high`, else None.

    At most 18 digits are read: Python refuses to convert an int of more than 4,300
    digits (a ValueError), and a pasted run of digits must be a refusal, not a crash.
    """
    stripped = text.strip()
    if not _WHOLE.fullmatch(stripped) or not low <= int(stripped) <= high:
        return None
    return int(stripped)


def count_type(low: int, high: int) -> Callable[[str], int]:
    """An argparse `type=` for a whole number from `low` to `high`, with a one-line error."""

    def parse(text: str) -> int:
        found = whole(text, low, high)
        if found is None:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low} to {high}")
        return found

    return parse
