"""One way to reach the team's PostgreSQL ledger, and one way to say why it failed.

psycopg is imported here, inside `connect`, so only a configured ledger loads it.
Its errors become Quorum's: the server's refusal of a member's act (a rule in
`console.store.postgres.schema`) is a `PolicyRefused` with the server's own words;
anything that keeps the ledger out of reach is a `LedgerUnreachable`, one line that
names the ledger but never a credential (the config holds none; libpq's messages
do not echo passwords).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.domain.errors import PolicyRefused, QuorumError
from console.domain.inert import neutralise
from console.domain.settings import LedgerConfig

if TYPE_CHECKING:
    import psycopg

CONNECT_TIMEOUT_S = 10


class LedgerUnreachable(QuorumError):
    """The ledger's server could not be reached or refused the login; exit 1."""


class LedgerMissing(QuorumError):
    """The driver is not installed (`pip install 'quorum[postgres]'`); exit 1."""


def connect(
    ledger: LedgerConfig, *, autocommit: bool = False, options: dict[str, object] | None = None
) -> psycopg.Connection:
    """A connection as whoever libpq's own sources say (~/.pgpass, PGUSER, a service
    file, a client certificate): the server names the actor, Quorum does not.
    `options`: more libpq parameters (a listener's keepalives)."""
    try:
        import psycopg
    except ImportError:
        raise LedgerMissing(
            "the PostgreSQL ledger needs psycopg: pip install 'quorum[postgres]'"
        ) from None
    try:
        return psycopg.connect(
            ledger.conninfo,
            autocommit=autocommit,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name="quorum",
            **(options or {}),
        )
    except psycopg.Error as exc:
        raise LedgerUnreachable(f"ledger {ledger.where}: {first_line(exc)}") from None


def session_user(ledger: LedgerConfig) -> str:
    """The role the server authenticates this process as: who acts on the ledger."""
    with connect(ledger, autocommit=True) as conn:
        row = conn.execute("SELECT session_user").fetchone()
    assert row is not None
    return str(row[0])


def first_line(exc: BaseException) -> str:
    """The server's or libpq's message, one inert line."""
    text = str(exc).strip().splitlines()
    return neutralise(text[0] if text else type(exc).__name__)


def refusal(exc: BaseException, where: str = "") -> QuorumError:
    """What a failed call means to a person: the server refused the act (its rule's
    words, without the "quorum: " prefix the functions give them), or the ledger at
    `where` is out of reach: no change is kept anywhere else to send later."""
    import psycopg

    line = first_line(exc)
    if line.startswith("permission denied"):
        return PolicyRefused(f"the ledger's server refused: {line} (only the team's role may)")
    if isinstance(exc, psycopg.errors.InsufficientPrivilege | psycopg.errors.CheckViolation):
        return PolicyRefused(line.removeprefix("quorum: "))
    if isinstance(exc, psycopg.errors.NoDataFound):
        return PolicyRefused(line.removeprefix("quorum: "))
    return LedgerUnreachable(f"ledger {where}: {line}" if where else line)
