"""The audit log's API: what append stores and what tail, since and by_key give back."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC
from pathlib import Path

import pytest

from console.domain.errors import QuorumError
from console.store.audit import GENESIS, AuditError, AuditLog, AuditRecord, check_chain
from console.store.db import connect
from tests.pg_support import Ledgers

HEX64 = re.compile(r"^[0-9a-f]{64}$")
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@pytest.fixture
def file_log(tmp_path: Path):
    """The SQLite log, for what only it does: take `who` as given (on a PostgreSQL
    ledger the server writes its session user)."""
    with AuditLog(tmp_path / "audit.db") as opened:
        yield opened


@pytest.fixture
def log(ledgers: Ledgers):
    """The same API on the SQLite file and on a PostgreSQL ledger (as alice)."""
    with ledgers.log("alice") as opened:
        yield opened


def fill(log: AuditLog, n: int) -> list[AuditRecord]:
    return [
        log.append(who="alice", action="deploy", target=f"t{i}", key=f"k{i % 3}", comment=str(i))
        for i in range(1, n + 1)
    ]


def test_append_numbers_and_chains_records(log: AuditLog) -> None:
    first = log.append(
        who="alice",
        action="deploy",
        target="main/production/api",
        environment="production",
        revision="v2",
        outcome="started",
        comment="release",
        key="deploy-api-v2",
    )
    second = log.append(who="bob", action="vote")
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.hash != second.hash
    assert HEX64.match(first.hash) and HEX64.match(second.hash)
    assert first.ts.tzinfo is not None and first.ts.utcoffset() == UTC.utcoffset(None)
    assert first.expected_hash() == first.hash
    assert log.tail() == [first, second]
    assert (first.environment, first.revision, first.outcome, first.key) == (
        "production",
        "v2",
        "started",
        "deploy-api-v2",
    )


def test_tail_gives_the_last_n_oldest_first(log: AuditLog) -> None:
    records = fill(log, 7)
    assert [r.seq for r in log.tail(3)] == [5, 6, 7]
    assert log.tail(50) == records
    assert log.tail(0) == []


def test_since_gives_records_after_a_seq(log: AuditLog) -> None:
    fill(log, 5)
    assert [r.seq for r in log.since(2)] == [3, 4, 5]
    assert log.since(5) == []
    assert [r.seq for r in log.since(0)] == [1, 2, 3, 4, 5]


def test_by_key_gives_every_record_of_one_key(log: AuditLog) -> None:
    fill(log, 7)
    assert [r.seq for r in log.by_key("k1")] == [1, 4, 7]
    assert [r.seq for r in log.by_key("k0")] == [3, 6]
    assert log.by_key("nope") == []
    log.append(who="carol", action="review")  # no key
    assert log.by_key("") == []


def test_control_characters_are_neutralised_in_every_field(file_log: AuditLog) -> None:
    log = file_log
    hostile = "x\x1b]0;owned\x07\x1b[2J\x9b1m\n"
    record = log.append(
        who=hostile,
        action=hostile,
        target=hostile,
        environment=hostile,
        revision=hostile,
        outcome=hostile,
        comment=hostile,
        key=hostile,
    )
    stored = log.tail(1)[0]
    assert stored == record
    for value in (
        stored.who,
        stored.action,
        stored.target,
        stored.environment,
        stored.revision,
        stored.outcome,
        stored.comment,
        stored.key,
    ):
        assert value.startswith("x")
        assert not re.search(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]", value)
        assert "owned" in value  # kept, only made visible
    assert log.verify().ok


def test_plain_text_is_stored_unchanged(file_log: AuditLog) -> None:
    log = file_log
    text = "déploiement\tv1 → v2 [bold]not markup[/bold]"
    assert log.append(who="ålice", action="deploy", comment=text).comment == text
    assert log.tail(1)[0].who == "ålice"


def test_to_json_has_stable_keys_and_a_z_timestamp(log: AuditLog) -> None:
    record = log.append(who="alice", action="deploy", key="k")
    data = record.to_json()
    assert list(data) == [
        "seq",
        "ts",
        "who",
        "action",
        "target",
        "environment",
        "revision",
        "outcome",
        "comment",
        "key",
        "prev_hash",
        "hash",
    ]
    assert TS.match(str(data["ts"]))
    assert AuditRecord.from_json(json.loads(json.dumps(data))) == record


def test_triggers_refuse_update_and_delete(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with AuditLog(path) as log:
        fill(log, 3)
    raw = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only: UPDATE refused"):
        raw.execute("UPDATE audit_log SET who = 'mallory' WHERE seq = 2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only: DELETE refused"):
        raw.execute("DELETE FROM audit_log WHERE seq = 3")
    with pytest.raises(sqlite3.DatabaseError, match="does not extend the chain"):
        raw.execute(
            "INSERT INTO audit_log VALUES (2, 't', 'w', 'a', '', '', '', '', '', '', ?, ?)",
            (GENESIS, GENESIS),
        )
    with pytest.raises(sqlite3.DatabaseError, match="audit_head cannot be deleted"):
        raw.execute("DELETE FROM audit_head")
    with pytest.raises(sqlite3.DatabaseError, match="only follows the log"):
        raw.execute("UPDATE audit_head SET seq = 1")
    raw.close()
    with AuditLog(path) as log:
        assert [r.who for r in log.tail()] == ["alice"] * 3
        assert log.verify().ok


def test_reopening_continues_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with AuditLog(path) as log:
        last = fill(log, 3)[-1]
    with AuditLog(path) as log:
        record = log.append(who="bob", action="rollback")
        assert (record.seq, record.prev_hash) == (4, last.hash)
        assert log.verify().checked == 4


def test_shares_the_file_with_other_tables(tmp_path: Path) -> None:
    path = tmp_path / "quorum.db"
    db = connect(path)
    db["proposals"].insert({"id": "p1", "state": "open"}, pk="id")
    db.conn.close()
    with AuditLog(path) as log:
        fill(log, 2)
    with AuditLog(path) as log:  # a second open finds its tables and leaves others alone
        assert log.verify().checked == 2
    db = connect(path)
    assert list(db["proposals"].rows) == [{"id": "p1", "state": "open"}]
    assert {"audit_log", "audit_head", "proposals"} <= set(db.table_names())


def test_dropped_triggers_come_back_on_the_next_open(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with AuditLog(path) as log:
        fill(log, 2)
    raw = sqlite3.connect(path)
    raw.execute("DROP TRIGGER audit_log_no_delete")
    raw.commit()
    with AuditLog(path):
        pass
    with pytest.raises(sqlite3.DatabaseError, match="DELETE refused"):
        raw.execute("DELETE FROM audit_log")
    raw.close()


def test_a_file_that_is_not_a_database_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    path.write_bytes(b"this is not sqlite\n" * 200)
    with pytest.raises(AuditError) as caught:
        AuditLog(path)
    assert isinstance(caught.value, QuorumError)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_check_chain_alone_accepts_a_fresh_log_and_rejects_a_foreign_start() -> None:
    assert check_chain([], None).ok
    row = (2, "2026-01-01T00:00:00.000000Z", "w", "a", "", "", "", "", "", "", GENESIS, "x")
    result = check_chain([row], None)
    assert (result.ok, result.bad_seq) == (False, 1)
