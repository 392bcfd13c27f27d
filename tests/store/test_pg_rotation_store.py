"""The rotation store on the PostgreSQL ledger: a change whose audit record fails is
rolled back with it (a member cannot delete one afterwards), and a handoff notice is
claimed once, released only by whoever claimed it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.domain.settings import LedgerConfig
from console.store.audit import AuditError
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
