"""The `[ledger]` section: a team ledger on PostgreSQL, named without its password.

The file is read by every member and often kept in a repository, so a password in
it, under a `password` key or inside the URL, is refused with its line; libpq's own
sources supply it instead. Nothing here imports the driver: a config without
`[ledger]` never loads it, and one with it loads it only when the ledger is opened.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from console.config.checks import STRING, Checker
from console.domain.settings import LedgerConfig

KEYS = ("url", "service", "member_role")
WHERE_PASSWORD = "libpq reads it from ~/.pgpass, PGPASSWORD, a service file or a client certificate"
_SCHEMES = ("postgresql", "postgres")
_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def ledger(check: Checker, raw: dict[str, Any]) -> LedgerConfig | None:
    """The ledger the config names; None without a `[ledger]` section (SQLite, as before)."""
    if "ledger" not in raw:
        return None
    table = check.section(raw, "ledger")
    check.unknown_keys(table, ("ledger",), KEYS)
    url = check.get(table, ("ledger",), "url", STRING)
    service = check.get(table, ("ledger",), "service", STRING)
    role = check.get(table, ("ledger",), "member_role", STRING)
    if ("ledger", "url") in check.secrets or ("ledger", "password") in check.secrets:
        return None
    if url is not None and service is not None:
        check.add(("ledger", "service"), "give either url or service, not both")
        return None
    if url is None and service is None:
        if not check.secrets & {("ledger", k) for k in table}:
            check.add(("ledger",), 'names no server: set url = "postgresql://host/db" or service')
        return None
    if url is not None and not _url_fine(check, url):
        return None
    if service is not None and not re.fullmatch(r"[A-Za-z0-9_.-]+", service):
        check.add(("ledger", "service"), "a service name is letters, digits, '.', '_' or '-'")
        return None
    if role is not None and not _ROLE.fullmatch(role):
        check.add(("ledger", "member_role"), "a role name is lower-case letters, digits and '_'")
        return None
    return LedgerConfig(url=url, service=service, member_role=role or "quorum_member")


def _url_fine(check: Checker, url: str) -> bool:
    """A libpq URL with no password in it; the problem (never the URL) said otherwise."""
    try:
        parts = urlsplit(url)
        has_password = parts.password is not None
    except ValueError:
        check.add(("ledger", "url"), 'not a URL; expected "postgresql://host[:port]/database"')
        return False
    if parts.scheme not in _SCHEMES:
        check.add(("ledger", "url"), 'expected a URL starting "postgresql://"')
        return False
    if has_password or "password" in {k.lower() for k in parse_qs(parts.query)}:
        check.add(("ledger", "url"), f"the URL holds a password; remove it: {WHERE_PASSWORD}")
        return False
    return True
