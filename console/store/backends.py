"""Which implementation of the store layer a config asks for: the SQLite file beside the
audit log (the default), or the team's PostgreSQL ledger (`[ledger]`).

Both offer the same methods to the engine; the PostgreSQL modules (and psycopg) are
imported only when a ledger is configured.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from console.domain.identity import Identity, current_identity, unknown_identity
from console.domain.settings import Config, LedgerConfig
from console.store.audit import AuditLog, RecordSigner
from console.store.claims import ClaimStore

if TYPE_CHECKING:
    from console.store.acts import ActStore
    from console.store.gates import GateStore
    from console.store.postgres.audit import PgAuditLog
    from console.store.postgres.claims import PgClaimStore
    from console.store.postgres.gates import PgGateStore
    from console.store.postgres.listen import LedgerWatch
    from console.store.postgres.proposals import PgActStore, PgProposalStore
    from console.store.postgres.rotation import PgRotationStore
    from console.store.proposals import ProposalStore
    from console.store.rotation import RotationStore

# Where the rotation's overrides, swaps and notices are kept: the SQLite file at a
# path, or the team's PostgreSQL ledger.
RotationSource = Path | LedgerConfig


def audit_log(config: Config, path: Path, signer: RecordSigner | None) -> AuditLog | PgAuditLog:
    if config.ledger is not None:
        from console.store.postgres.audit import PgAuditLog

        return PgAuditLog(config.ledger, signer=signer)
    return AuditLog(path, signer=signer)


def claim_store(config: Config, path: Path) -> ClaimStore | PgClaimStore:
    if config.ledger is not None:
        from console.store.postgres.claims import PgClaimStore

        return PgClaimStore(config.ledger)
    return ClaimStore(path)


def proposal_stores(
    config: Config, path: Path
) -> tuple[ProposalStore | PgProposalStore, ActStore | PgActStore]:
    """The proposals' rows and their acts, on one connection (an act and the row it
    changes commit together)."""
    if config.ledger is not None:
        from console.store.postgres.proposals import PgActStore, PgProposalStore

        pg = PgProposalStore(config.ledger)
        return pg, PgActStore(pg)
    from console.store.acts import ActStore
    from console.store.proposals import ProposalStore

    store = ProposalStore(path)
    return store, ActStore(store)


def ledger_watch(
    config: Config, on_change: Callable[[], None], error: str | None = None
) -> LedgerWatch | None:
    """What tells a console of the ledger's changes on PostgreSQL (LISTEN, not started
    yet; stale from the start with `error`); None on the SQLite file, whose readers ask
    its `data_version` instead."""
    if config.ledger is None:
        return None
    from console.store.postgres.listen import LedgerWatch

    return LedgerWatch(config.ledger, on_change, error)


def rotation_source(config: Config, path: Path) -> RotationSource:
    """Where rotation overrides, swaps and notices are read and written: the team's
    ledger when the config names one, else the SQLite file at `path`."""
    return config.ledger if config.ledger is not None else path


def open_rotation(source: RotationSource) -> RotationStore | PgRotationStore:
    """The rotation store at `source` (`rotation_source`), open; the caller closes it."""
    if isinstance(source, LedgerConfig):
        from console.store.postgres.rotation import PgRotationStore

        return PgRotationStore(source)
    from console.store.rotation import RotationStore

    return RotationStore(source)


def rotation_audit(source: RotationSource) -> AuditLog | PgAuditLog:
    """The audit log beside the rotation store at `source`, for what the schedule's own
    modules record (handoff notices, undelivered team notices)."""
    if isinstance(source, LedgerConfig):
        from console.store.postgres.audit import PgAuditLog

        return PgAuditLog(source)
    return AuditLog(source)


def gate_store(config: Config, path: Path) -> GateStore | PgGateStore:
    """The votes on providers' own approvals and the answer a voter claims to send."""
    if config.ledger is not None:
        from console.store.postgres.gates import PgGateStore

        return PgGateStore(config.ledger)
    from console.store.gates import GateStore

    return GateStore(path)


def ledger_key(config: Config, path: Path) -> Path | str:
    """What names the ledger where a head seen earlier is remembered."""
    return config.ledger.where if config.ledger is not None else path


def identity(config: Config) -> Identity:
    """Who acts: the OS account on the SQLite file; on a PostgreSQL ledger the role the
    server authenticated (`session_user`), since that is the author the server writes
    on every act and record, whatever this process would say."""
    me = current_identity()
    if config.ledger is None:
        return me
    from console.store.postgres.connect import session_user

    return Identity(name=session_user(config.ledger), os_account=me.os_account)


def starting_identity(config: Config) -> tuple[Identity, str | None]:
    """Who a console starts as, and why its ledger is out of reach (libpq's line, None
    while it is in reach). On a PostgreSQL ledger its server may be down when the console is most
    needed (an incident): then nobody is named yet (`unknown_identity`), the console
    opens on its providers, and the ledger's watch learns the role once it connects."""
    if config.ledger is None:
        return current_identity(), None
    from console.store.postgres.connect import LedgerUnreachable

    try:
        return identity(config), None
    except LedgerUnreachable as exc:
        return unknown_identity(), str(exc).removeprefix(f"ledger {config.ledger.where}: ")
