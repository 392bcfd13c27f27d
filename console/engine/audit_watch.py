"""Each console and command remembers the audit head it saw, and says when it is gone.

At start a command checks that the record it (or any earlier command of the same
user) last saw is still in the shared log with the same hash; at the end it notes
the head it leaves behind. The memory is in the user's own state directory
(`console.store.seen_heads`), out of reach of the other members who share the
file. A head that is gone is never overwritten: the warning stays until someone
looks into it, since it is the only trace of a log truncated or rebuilt whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from console.config.paths import state_dir
from console.domain.errors import QuorumError
from console.domain.settings import Config
from console.store import backends
from console.store.audit import AuditLog
from console.store.seen_heads import SeenHead, SeenHeads

if TYPE_CHECKING:
    from console.store.postgres.audit import PgAuditLog


def seen_heads() -> SeenHeads:
    return SeenHeads(state_dir() / "audit-heads.json")


def head_gone(log: AuditLog | PgAuditLog, seen: SeenHead | None) -> str | None:
    """Why the remembered head is no longer in `log`, or None when it still is."""
    if seen is None or seen.seq == 0:
        return None
    found = log.hash_at(seen.seq)
    if found is None:
        last = log.head()[0]
        return (
            f"the audit log {log.path} ends at record {last}, but this account saw record "
            f"{seen.seq} earlier: it was truncated or rebuilt (`quorum audit verify`)"
        )
    if found != seen.hash:
        return (
            f"record {seen.seq} of the audit log {log.path} is not the one this account saw "
            "earlier: the log was rewritten (`quorum audit verify`)"
        )
    return None


def check_and_note(
    audit_path: Path, *, config: Config | None = None, signed_through: int = 0
) -> str | None:
    """Checks the remembered head; notes the current one unless the remembered is gone.

    The log is the file at `audit_path`, or the PostgreSQL ledger `config` names.
    Returns the warning to show, if any. A log that cannot be opened is left to the
    command that needs it, which says why.
    """
    heads = seen_heads()
    key = audit_path if config is None else backends.ledger_key(config, audit_path)
    try:
        if config is None:
            log: AuditLog | PgAuditLog = AuditLog(audit_path, signer=None)
        else:
            log = backends.audit_log(config, audit_path, None)
    except QuorumError:  # AuditError, or the ledger's server out of reach
        return None
    try:
        seen = heads.get(key)
        gone = head_gone(log, seen)
        if gone is None:
            seq, digest = log.head()
            heads.remember(key, SeenHead(seq, digest, signed_through))
        return gone
    except QuorumError:
        return None
    finally:
        log.close()
