"""The guards of every change: one place decides that a read-only console makes no
change, and one wording refuses a change while the team's ledger is out of reach.

`--readonly` (the command line's flag, the console's start option) removes every
mutating act. The engine's changes call this before anything else; the command
line's runner calls it before it even opens the session, and the console calls it
before it offers a dialog, so each refuses with the same words and exit code 3.
"""

from __future__ import annotations

from console.domain.errors import PolicyRefused, QuorumError
from console.domain.settings import Config


def refuse_if_readonly(readonly: bool, doing: str) -> None:
    """Refused by policy (exit 3) when `readonly`: "read-only console (--readonly): cannot X"."""
    if readonly:
        raise PolicyRefused(f"read-only console (--readonly): cannot {doing}")


def out_of_reach(config: Config, doing: str, error: str) -> QuorumError:
    """The refusal of `doing` while the ledger is out of reach (`error`, libpq's line),
    in one wording wherever that is found: the engine's change, the console's key
    pressed before any dialog or read. Nothing is queued to fork the ledger later."""
    from console.store.postgres.connect import LedgerUnreachable

    where = config.ledger.where if config.ledger else ""
    return LedgerUnreachable(
        f"cannot {doing}: the ledger {where} is out of reach ({error}); nothing "
        "was changed or kept to send later"
    )
