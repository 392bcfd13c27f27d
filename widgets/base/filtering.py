"""The `/` filter every pane shares: a case-insensitive regex, refused when invalid.

A pattern that does not compile is an error said in one line, not a literal match:
`([` matching nothing quietly would look like a pane with nothing in it.
"""

from __future__ import annotations

import re


class FilterError(ValueError):
    """A filter that is not a valid regex; the message is one line for the person."""


def compile_filter(pattern: str) -> re.Pattern[str] | None:
    """`pattern` as a case-insensitive regex; None for no filter."""
    if not pattern:
        return None
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise FilterError(f"invalid regex {pattern!r}: {exc}") from None
