"""libpq's line about a ledger out of reach, said short where a line is narrow.

libpq names the attempt before its reason ("connection failed: connection to server at
"10.0.0.5", port 5432 failed: Connection refused"), so at 80 columns the status line
would show the attempt and cut the reason. `brief` puts the reason first and the
address after it; the toast and `:messages` keep libpq's whole line.
"""

from __future__ import annotations

import re

_ATTEMPT = re.compile(
    r'connection to server (?:at "(?P<host>[^"]*)"(?: \([^)]*\))?, port (?P<port>\d+)'
    r'|on socket "(?P<socket>[^"]*)") failed: (?P<why>.*)'
)
_PREFIX = re.compile(r"^(?:[a-z ]+ failed|connection is bad): ")


def brief(line: str) -> str:
    """The reason first, lower-cased as a status line says it, then where in brackets:
    "connection refused (127.0.0.1:5433)". A line of another shape loses only a
    leading "... failed: " that names the attempt."""
    found = _ATTEMPT.search(line)
    if found is None:
        return _PREFIX.sub("", line, count=1)
    why = found["why"].removeprefix("FATAL:").strip()
    why = why[:1].lower() + why[1:]
    where = found["socket"] or f"{found['host']}:{found['port']}"
    return f"{why} ({where})"
