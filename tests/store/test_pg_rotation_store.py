"""The rotation store on the PostgreSQL ledger: a change whose audit record fails is
rolled back with it (a member cannot delete one afterwards), and a handoff notice is
claimed once, released only by whoever claimed it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.domain.settings import LedgerConfig
from console.store.audit import AuditError
from console.store.backends import open_rotation
from console.store.postgres.base import MAX_KEPT, drop_kept
from console.store.postgres.connect import LedgerUnreachable
from console.store.postgres.rotation import PgRotationStore
from console.store.rotation import Override, new_id
from tests.pg_support import PgServer, initialised


def store_as(
    server: PgServer, database: str, who: str, monkeypatch: pytest.MonkeyPatch
) -> PgRotationStore:
    for key, value in server.env(who).items():
        monkeypatch.setenv(key, value)
    return PgRotationStore(LedgerConfig(url=f"postgresql://127.0.0.1:{server.port}/{database}"))


def test_a_change_whose_audit_record_fails_is_rolled_back_with_it(
    pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = initialised(pg_server, "rotation_store")
    now = datetime.now(UTC)
    override = Override(new_id(), "primary", "carol", now, now + timedelta(hours=3), "cover",
                        "alice", now)  # fmt: skip
    with store_as(pg_server, database, "alice", monkeypatch) as db:

        def insert() -> bool:
            db.insert_override(override)
            return True

        def failing_audit() -> None:
            assert db.override(override.id) is not None  # written, not yet committed
            raise AuditError("the audit log is full")

        with pytest.raises(AuditError):
            db.audited(insert, failing_audit, undo=lambda: None)
        assert db.override(override.id) is None
        written: list[str] = []
        assert db.audited(insert, lambda: written.append("audit"), undo=lambda: None)
        assert written == ["audit"]
        stored = db.override(override.id)
        assert stored is not None and stored.created_by == "alice"
        assert db.overrides(now, now + timedelta(hours=1), "primary") == [stored]


def test_a_handoff_notice_is_claimed_once_and_released_by_its_claimer_only(
    pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = initialised(pg_server, "rotation_notices")
    handoff = datetime(2026, 12, 7, 9, tzinfo=UTC)
    now = datetime.now(UTC)
    with store_as(pg_server, database, "alice", monkeypatch) as alice:
        assert alice.claim_notice("primary", handoff, "bob", now)
    with store_as(pg_server, database, "bob", monkeypatch) as bob:
        assert not bob.claim_notice("primary", handoff, "bob", now)
        bob.release_notice("primary", handoff, "bob")  # not his claim: kept
        assert not bob.claim_notice("primary", handoff, "bob", now)
    with store_as(pg_server, database, "alice", monkeypatch) as alice:
        alice.release_notice("primary", handoff, "bob")
    with store_as(pg_server, database, "bob", monkeypatch) as bob:
        assert bob.claim_notice("primary", handoff, "bob", now)


def _backend(ledger: LedgerConfig, server: PgServer, who: str, mp: pytest.MonkeyPatch) -> tuple:
    for key, value in server.env(who).items():
        mp.setenv(key, value)
    with open_rotation(ledger) as db, db.reading() as conn:
        return conn.execute("SELECT pg_backend_pid(), session_user::text").fetchone()


def test_one_connection_is_kept_per_role_and_made_again_once_the_server_ended_it(
    pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schedule opens the store for every read: one login per process and role,
    not one per read; a connection the server ended is made again, as every store's."""
    database = initialised(pg_server, "rotation_kept")
    ledger = LedgerConfig(url=f"postgresql://127.0.0.1:{pg_server.port}/{database}")
    alice = _backend(ledger, pg_server, "alice", monkeypatch)
    assert alice[1] == "alice"
    assert _backend(ledger, pg_server, "alice", monkeypatch) == alice
    bob = _backend(ledger, pg_server, "bob", monkeypatch)
    assert bob[1] == "bob" and bob[0] != alice[0]
    assert _backend(ledger, pg_server, "alice", monkeypatch) == alice
    # The server ends it: the call that finds it so fails as any store's does (the
    # ledger out of reach), and the next one connects again as the same role.
    pg_server.psql(f"SELECT pg_terminate_backend({alice[0]})", database)
    with pytest.raises(LedgerUnreachable):
        _backend(ledger, pg_server, "alice", monkeypatch)
    again = _backend(ledger, pg_server, "alice", monkeypatch)
    assert again[1] == "alice" and again[0] != alice[0]
    # The console's watch saw the server go: every kept connection is made again.
    drop_kept()
    after = _backend(ledger, pg_server, "bob", monkeypatch)
    assert after[1] == "bob" and after[0] != bob[0]


def test_a_process_that_changes_roles_keeps_only_its_latest_few_connections(
    pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = initialised(pg_server, "rotation_kept_few")
    ledger = LedgerConfig(url=f"postgresql://127.0.0.1:{pg_server.port}/{database}")
    for key, value in pg_server.env("alice").items():
        monkeypatch.setenv(key, value)
    connections = []
    for n in range(MAX_KEPT + 2):  # libpq's variables differ: another login each
        monkeypatch.setenv("PGAPPNAME", f"quorum-{n}")
        with open_rotation(ledger) as db:
            assert db.overrides(datetime.now(UTC), datetime.now(UTC)) == []
            connections.append(db.conn)
    assert len({id(c) for c in connections}) == MAX_KEPT + 2
    assert [c.closed for c in connections] == [True] * 2 + [False] * MAX_KEPT
