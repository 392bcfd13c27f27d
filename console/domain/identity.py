"""Who is acting: the OS account of this process, never a name taken from the environment.

On a shared bastion every operator can set `$USER`, `$LOGNAME` or any other
variable, so none of them may decide who votes. The name comes from the real uid
through the password database.

One seam exists for tests and demos: when the real uid is 0, `QUORUM_ACT_AS=NAME`
selects the identity. Root can already `su` to any account, so the variable grants
root nothing it did not have; for every other uid it is ignored. An identity chosen
this way says so (`via_seam`), and the audit log records that it was.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from console.domain.errors import PolicyRefused
from console.domain.names import current_user
from console.domain.settings import Config

ACT_AS_VAR = "QUORUM_ACT_AS"


@dataclass(frozen=True)
class Identity:
    """The person acting, and the OS account that vouches for them."""

    name: str
    os_account: str
    via_seam: bool = False

    @property
    def known(self) -> bool:
        """False for a console on a PostgreSQL ledger its server has not answered yet:
        nobody acts until the server names the role (`unknown_identity`)."""
        return bool(self.name)

    @property
    def note(self) -> str:
        """What the audit log adds to a record so a seam-chosen identity is never hidden."""
        return f"acting as {self.name} via {ACT_AS_VAR} (uid 0)" if self.via_seam else ""


def current_identity() -> Identity:
    """The identity of this process (see the module docstring for the root-only seam)."""
    account = current_user()
    chosen = os.environ.get(ACT_AS_VAR, "").strip()
    if chosen and os.getuid() == 0:
        return Identity(name=chosen, os_account=account, via_seam=True)
    return Identity(name=account, os_account=account)


def unknown_identity() -> Identity:
    """Who acts on a PostgreSQL ledger out of reach at start: nobody yet. The server
    names the actor (`session_user`); a name guessed from PGUSER or the OS account
    could differ from the role it authenticates, so none is shown or used."""
    return Identity(name="", os_account=current_user())


def require_member(config: Config, identity: Identity, doing: str) -> None:
    """Refuse `doing` unless `identity` is one of the team's `[team] members`."""
    if identity.name not in config.members:
        if not config.members:
            raise PolicyRefused(f"cannot {doing}: the config lists no [team] members")
        raise PolicyRefused(f"cannot {doing}: {identity.name} is not in [team] members")
