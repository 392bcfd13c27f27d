"""Tampering behind Quorum's back with raw SQL, triggers out of the way: verify names it.

Each case starts from an intact log of ten records, on the SQLite file or on a
PostgreSQL ledger. On the file every trigger is dropped (as anyone with write access
to it can); on PostgreSQL the owner role disables the append-only triggers (as the
owner can). Then the tables are changed and `verify` must fail naming the first record
that is no longer what Quorum wrote.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from console.domain.errors import QuorumError
from console.store.audit import AuditError, AuditRecord
from tests.pg_support import Ledgers, Raw

COLUMNS = (
    "seq, ts, who, action, target, environment, revision, outcome, comment, key, prev_hash, hash"
)


@pytest.fixture
def ledger(ledgers: Ledgers) -> Ledgers:
    """Ten records by alice, intact."""
    with ledgers.log("alice") as log:
        for i in range(1, 11):
            log.append(who="alice", action="deploy", target="api", revision=f"v{i}", key=f"k{i}")
        assert log.verify().ok
    return ledgers


def row(conn: Raw, seq: int) -> AuditRecord:
    values = conn.execute(f"SELECT {COLUMNS} FROM audit_log WHERE seq = ?", (seq,)).fetchone()
    data = dict(zip(COLUMNS.split(", "), values, strict=True))
    return AuditRecord.from_json(data)


def insert(conn: Raw, record: AuditRecord) -> None:
    *fields, digest = record.to_json().values()
    conn.insert(fields, digest)


def forged(seq: int, prev_hash: str, *, rehash: bool) -> AuditRecord:
    """A record someone wrote by hand; with `rehash`, its own hash computed correctly."""
    record = AuditRecord(
        seq=seq,
        ts=datetime(2026, 1, 1, tzinfo=UTC),
        who="mallory",
        action="deploy",
        target="api",
        revision="evil",
        prev_hash=prev_hash,
        hash="0" * 64,
    )
    if rehash:
        record = AuditRecord(**{**record.__dict__, "hash": record.expected_hash()})
    return record


def edit_field(conn: Raw) -> None:
    conn.execute("UPDATE audit_log SET revision = 'evil' WHERE seq = 4")


def edit_who_of_the_first(conn: Raw) -> None:
    conn.execute("UPDATE audit_log SET who = 'bob' WHERE seq = 1")


def edit_timestamp(conn: Raw) -> None:
    conn.execute("UPDATE audit_log SET ts = '2020-01-01T00:00:00.000000Z' WHERE seq = 6")


def edit_and_rehash(conn: Raw) -> None:
    record = row(conn, 4)
    edited = AuditRecord(**{**record.__dict__, "revision": "evil"})
    conn.execute(
        "UPDATE audit_log SET revision = 'evil', hash = ? WHERE seq = 4",
        (edited.expected_hash(),),
    )


def edit_last_and_rehash(conn: Raw) -> None:
    record = row(conn, 10)
    edited = AuditRecord(**{**record.__dict__, "comment": "nothing happened"})
    conn.execute(
        "UPDATE audit_log SET comment = ?, hash = ? WHERE seq = 10",
        (edited.comment, edited.expected_hash()),
    )


def delete_middle(conn: Raw) -> None:
    conn.execute("DELETE FROM audit_log WHERE seq = 4")


def delete_first(conn: Raw) -> None:
    conn.execute("DELETE FROM audit_log WHERE seq = 1")


def delete_and_renumber(conn: Raw) -> None:
    conn.execute("DELETE FROM audit_log WHERE seq = 4")
    conn.execute("UPDATE audit_log SET seq = seq + 1000 WHERE seq > 4")
    conn.execute("UPDATE audit_log SET seq = seq - 1001 WHERE seq > 1000")
    conn.execute("UPDATE audit_head SET seq = 9")


def truncate_tail(conn: Raw) -> None:
    conn.execute("DELETE FROM audit_log WHERE seq > 7")


def delete_everything(conn: Raw) -> None:
    conn.execute("DELETE FROM audit_log")


def insert_at_end_unhashed(conn: Raw) -> None:
    insert(conn, forged(11, row(conn, 10).hash, rehash=False))


def insert_at_end_without_moving_the_head(conn: Raw) -> None:
    insert(conn, forged(11, row(conn, 10).hash, rehash=True))


def insert_in_middle(conn: Raw) -> None:
    conn.execute("UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 5")
    conn.execute("UPDATE audit_log SET seq = seq - 999 WHERE seq > 1000")
    insert(conn, forged(5, row(conn, 4).hash, rehash=False))


def insert_in_middle_rehashed(conn: Raw) -> None:
    conn.execute("UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 5")
    conn.execute("UPDATE audit_log SET seq = seq - 999 WHERE seq > 1000")
    insert(conn, forged(5, row(conn, 4).hash, rehash=True))


def swap_rows(conn: Raw) -> None:
    conn.execute("UPDATE audit_log SET seq = -3 WHERE seq = 3")
    conn.execute("UPDATE audit_log SET seq = 3 WHERE seq = 4")
    conn.execute("UPDATE audit_log SET seq = 4 WHERE seq = -3")


def swap_contents(conn: Raw) -> None:
    """Rows keep their seq; everything else trades places (hashes included)."""
    six, seven = row(conn, 6), row(conn, 7)
    for target, source in ((6, seven), (7, six)):
        values = [v for k, v in source.to_json().items() if k != "seq"]
        conn.execute(
            "UPDATE audit_log SET ts=?, who=?, action=?, target=?, environment=?, revision=?, "
            "outcome=?, comment=?, key=?, prev_hash=?, hash=? WHERE seq = ?",
            (*values, target),
        )


def move_the_head_forward(conn: Raw) -> None:
    conn.execute("UPDATE audit_head SET seq = 12")


def rewrite_the_head_hash(conn: Raw) -> None:
    conn.execute("UPDATE audit_head SET hash = ?", ("f" * 64,))


CASES: list[tuple[Callable[[Raw], None], int, str]] = [
    (edit_field, 4, "hash mismatch (edited)"),
    (edit_who_of_the_first, 1, "hash mismatch (edited)"),
    (edit_timestamp, 6, "hash mismatch (edited)"),
    (edit_and_rehash, 5, "previous-hash mismatch"),
    (edit_last_and_rehash, 10, "does not match the chain head"),
    (delete_middle, 4, "missing (deleted)"),
    (delete_first, 1, "missing (deleted)"),
    (delete_and_renumber, 4, "previous-hash mismatch"),
    (truncate_tail, 8, "missing (log truncated; chain head is record 10)"),
    (delete_everything, 1, "missing (log truncated; chain head is record 10)"),
    (insert_at_end_unhashed, 11, "hash mismatch (edited)"),
    (insert_at_end_without_moving_the_head, 11, "beyond the chain head"),
    (insert_in_middle, 5, "hash mismatch (edited)"),
    (insert_in_middle_rehashed, 6, "previous-hash mismatch"),
    (swap_rows, 3, "previous-hash mismatch"),
    (swap_contents, 6, "previous-hash mismatch"),
    (move_the_head_forward, 11, "missing (log truncated; chain head is record 12)"),
    (rewrite_the_head_hash, 10, "does not match the chain head"),
]


@pytest.mark.parametrize(("tamper", "bad_seq", "what"), CASES, ids=[c[0].__name__ for c in CASES])
def test_verify_names_the_first_bad_record(
    ledger: Ledgers, tamper: Callable[[Raw], None], bad_seq: int, what: str
) -> None:
    with ledger.raw() as conn:
        tamper(conn)
    with ledger.log("bob") as log:
        result = log.verify()
    assert not result.ok
    assert result.bad_seq == bad_seq
    assert result.reason.startswith(f"record {bad_seq}: ")
    assert what in result.reason
    assert "\n" not in result.reason
    assert result.checked == bad_seq - 1  # the records found intact before it


def test_a_deleted_head_fails_verification_and_refuses_appends(ledger: Ledgers) -> None:
    with ledger.raw() as conn:
        conn.execute("DELETE FROM audit_head")
    with ledger.log("bob") as log:
        result = log.verify()
        assert not result.ok and "chain head was deleted" in result.reason
        with pytest.raises(AuditError, match="chain head was deleted"):
            log.append(who="bob", action="deploy")


def test_a_dropped_head_table_fails_verification_and_refuses_appends(ledgers: Ledgers) -> None:
    """Reopening the file recreates the table but never guesses its content; on
    PostgreSQL the owner's dropped table is not recreated by a member."""
    with ledgers.log("alice") as log:
        log.append(who="alice", action="deploy")
    with ledgers.raw() as conn:
        conn.execute("DROP TABLE audit_head")
    with ledgers.log("bob") as log:
        result = log.verify()
        assert not result.ok and "chain head was deleted" in result.reason
        with pytest.raises(QuorumError, match="chain head was deleted"):
            log.append(who="bob", action="deploy")


def test_truncation_with_a_rewritten_head_is_not_detected(ledger: Ledgers) -> None:
    """The documented limit: rewriting the head consistently hides a truncated tail."""
    with ledger.raw() as conn:
        seventh = row(conn, 7)
        conn.execute("DELETE FROM audit_log WHERE seq > 7")
        conn.execute("UPDATE audit_head SET seq = 7, hash = ?", (seventh.hash,))
    with ledger.log("bob") as log:
        result = log.verify()
    assert (result.ok, result.checked) == (True, 7)


def test_appends_after_tampering_do_not_hide_it(ledger: Ledgers) -> None:
    with ledger.raw() as conn:
        edit_field(conn)
    with ledger.log("bob") as log:
        log.append(who="bob", action="deploy")
        result = log.verify()
    assert (result.ok, result.bad_seq) == (False, 4)


def test_values_quorum_never_writes_are_named_and_still_readable(ledger: Ledgers) -> None:
    with ledger.raw() as conn:
        if ledger.on_postgres:  # text columns: control characters, not a blob
            conn.execute("UPDATE audit_log SET who = ? WHERE seq = 3", ("\x1b[2J",))
        else:
            conn.execute("UPDATE audit_log SET who = X'1b5b324a' WHERE seq = 3")
        conn.execute("UPDATE audit_log SET ts = 'yesterday', revision = 42 WHERE seq = 5")
    with ledger.log("bob") as log:
        result = log.verify()
        records = log.tail()
        out = io.StringIO()
        assert log.export_jsonl(out) == 10
    assert (result.ok, result.bad_seq) == (False, 3)
    assert records[2].who == "\u241b[2J"  # the bytes, made inert
    assert records[4].ts == datetime.fromtimestamp(0, UTC)
    assert records[4].revision == "42"
