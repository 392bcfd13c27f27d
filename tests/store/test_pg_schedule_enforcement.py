"""Migration 2 of the PostgreSQL ledger: rotation overrides, swaps, handoff notices and
gate votes, written only through the server's functions as the session's member.

A member with psql cannot write one as someone else, nor rewrite or delete one; the
owner cannot rewrite a settled change either (triggers). `quorum ledger init` upgrades
a version-1 ledger in place, keeping what it held, and does nothing the second time.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from console.domain.settings import Config, LedgerConfig
from console.store.postgres import schema
from console.store.postgres.setup import init
from tests.pg_support import OWNER, PgServer, connect_as, fresh_database, initialised

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def ledger(pg_server: PgServer) -> str:
    return initialised(pg_server, "schedule_rules")


@pytest.fixture
def alice(pg_server: PgServer, ledger: str) -> Iterator[psycopg.Connection]:
    with connect_as(pg_server, "alice", ledger) as conn:
        yield conn


@pytest.fixture
def bob(pg_server: PgServer, ledger: str) -> Iterator[psycopg.Connection]:
    with connect_as(pg_server, "bob", ledger) as conn:
        yield conn


def override(conn: psycopg.Connection, holder: str = "carol") -> str:
    change = secrets.token_hex(3)
    conn.execute(
        "SELECT quorum.rotation_override(%s, 'primary', %s, %s, %s, 'cover', %s)",
        (change, holder, NOW, NOW + timedelta(days=1), datetime.now(UTC)),
    )
    return change


def offer(conn: psycopg.Connection) -> str:
    change = secrets.token_hex(3)
    conn.execute(
        "SELECT quorum.rotation_swap(%s, 'primary', %s, %s, '', %s)",
        (change, NOW + timedelta(hours=1), NOW + timedelta(hours=5), datetime.now(UTC)),
    )
    return change


def one(conn: psycopg.Connection, sql: str, params: tuple[object, ...] = ()) -> object:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return row[0]


def test_an_override_is_authored_by_the_session_and_never_rewritten(
    alice: psycopg.Connection,
) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        alice.execute(
            "INSERT INTO quorum.rotation_overrides VALUES ('x1', 'primary', 'alice', now(), "
            "now() + interval '1 day', 'r', 'bob', now(), NULL, NULL)"
        )
    change = override(alice)
    assert one(alice, "SELECT created_by FROM quorum.rotation_overrides WHERE id = %s",
               (change,)) == "alice"  # fmt: skip
    for sql in (
        "UPDATE quorum.rotation_overrides SET who = 'alice' WHERE id = %s",
        "DELETE FROM quorum.rotation_overrides WHERE id = %s",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            alice.execute(sql, (change,))
    assert one(alice, "SELECT quorum.rotation_cancel(%s, %s)", (change, datetime.now(UTC)))
    assert not one(alice, "SELECT quorum.rotation_cancel(%s, %s)", (change, datetime.now(UTC)))
    assert one(alice, "SELECT cancelled_by FROM quorum.rotation_overrides WHERE id = %s",
               (change,)) == "alice"  # fmt: skip


def test_a_swap_is_taken_by_someone_else_once_and_withdrawn_only_by_its_requester(
    alice: psycopg.Connection, bob: psycopg.Connection, pg_server: PgServer, ledger: str
) -> None:
    change = offer(alice)
    assert one(alice, "SELECT requested_by FROM quorum.rotation_swaps WHERE id = %s",
               (change,)) == "alice"  # fmt: skip
    with pytest.raises(psycopg.errors.CheckViolation, match="person who offered it"):
        alice.execute("SELECT quorum.rotation_take(%s, %s)", (change, datetime.now(UTC)))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="only alice"):
        bob.execute("SELECT quorum.rotation_withdraw(%s, %s)", (change, datetime.now(UTC)))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        bob.execute("UPDATE quorum.rotation_swaps SET taken_by = 'bob' WHERE id = %s", (change,))
    assert one(bob, "SELECT quorum.rotation_take(%s, %s)", (change, datetime.now(UTC)))
    with connect_as(pg_server, "carol", ledger) as carol:
        assert not one(carol, "SELECT quorum.rotation_take(%s, %s)", (change, datetime.now(UTC)))
    assert not one(alice, "SELECT quorum.rotation_withdraw(%s, %s)", (change, datetime.now(UTC)))
    assert one(alice, "SELECT taken_by FROM quorum.rotation_swaps WHERE id = %s",
               (change,)) == "bob"  # fmt: skip


def test_even_the_owner_cannot_rewrite_a_settled_change_or_a_gate_vote(
    alice: psycopg.Connection, bob: psycopg.Connection, pg_server: PgServer, ledger: str
) -> None:
    change = offer(alice)
    assert one(bob, "SELECT quorum.rotation_take(%s, %s)", (change, datetime.now(UTC)))
    alice.execute(
        "SELECT quorum.gate_vote('ci:7/production', true, %s, '', 'sig')", (datetime.now(UTC),)
    )
    with psycopg.connect(pg_server.conninfo(OWNER, ledger), autocommit=True) as owner:
        for sql in (
            f"UPDATE quorum.rotation_swaps SET taken_by = 'carol' WHERE id = '{change}'",
            f"DELETE FROM quorum.rotation_swaps WHERE id = '{change}'",
            "UPDATE quorum.gate_votes SET approve = false WHERE gate = 'ci:7/production'",
            "DELETE FROM quorum.gate_votes WHERE gate = 'ci:7/production'",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                owner.execute(sql)


def test_a_gate_vote_is_the_sessions_own_and_its_answer_is_claimed_by_a_voter(
    alice: psycopg.Connection, bob: psycopg.Connection, pg_server: PgServer, ledger: str
) -> None:
    gate = f"ci:{secrets.token_hex(2)}/production"
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        alice.execute(
            "INSERT INTO quorum.gate_votes (gate, voter, approve, at) VALUES (%s, 'bob', true, "
            "now())",
            (gate,),
        )
    alice.execute("SELECT quorum.gate_vote(%s, true, %s, 'ok', 's1')", (gate, datetime.now(UTC)))
    assert alice.execute(
        "SELECT voter, signature FROM quorum.gate_votes WHERE gate = %s", (gate,)
    ).fetchall() == [("alice", "s1")]
    with pytest.raises(psycopg.errors.CheckViolation, match="has not voted"):
        bob.execute("SELECT quorum.gate_claim(%s, 'approved', %s)", (gate, datetime.now(UTC)))
    assert one(alice, "SELECT quorum.gate_claim(%s, 'approved', %s)", (gate, datetime.now(UTC)))
    bob.execute("SELECT quorum.gate_vote(%s, true, %s, '', '')", (gate, datetime.now(UTC)))
    assert not one(bob, "SELECT quorum.gate_claim(%s, 'approved', %s)", (gate, datetime.now(UTC)))
    bob.execute("SELECT quorum.gate_finish(%s, true, 'sent by bob?')", (gate,))
    assert one(bob, "SELECT state FROM quorum.gate_answers WHERE gate = %s", (gate,)) == "sending"
    alice.execute("SELECT quorum.gate_finish(%s, true, '201')", (gate,))
    with pytest.raises(psycopg.errors.CheckViolation, match="already answered"):
        bob.execute("SELECT quorum.gate_vote(%s, false, %s, '', '')", (gate, datetime.now(UTC)))
    with (
        connect_as(pg_server, "mallory", ledger) as mallory,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        mallory.execute("SELECT quorum.gate_vote(%s, true, %s, '', '')", (gate, datetime.now(UTC)))


def test_schedule_changes_and_gate_votes_are_announced(
    alice: psycopg.Connection, bob: psycopg.Connection
) -> None:
    bob.execute("LISTEN quorum_ledger")
    change = override(alice)
    swap = offer(alice)
    alice.execute("SELECT quorum.gate_vote('ci:9/staging', true, %s, '', '')", (datetime.now(UTC),))
    heard = [n.payload for n in bob.notifies(timeout=30, stop_after=3)]
    assert heard == [
        f"rotation.override {change}",
        f"rotation.swap.request {swap}",
        "gate-vote ci:9/staging",
    ]


def test_init_upgrades_a_version_1_ledger_in_place_once(
    pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = fresh_database(pg_server, "upgrade_v1")
    ledger = LedgerConfig(url=f"postgresql://127.0.0.1:{pg_server.port}/{name}")
    config = Config(team_name="ops", members=("alice", "bob", "carol"))
    with monkeypatch.context() as old:  # the Quorum that knew migration 1 only
        old.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
        old.setattr(schema, "SCHEMA_VERSION", 1)
        old.setattr(schema, "FUNCTIONS", schema.CORE_FUNCTIONS)
        old.setattr(schema, "MEMBER_FUNCTIONS", schema.CORE_MEMBER_FUNCTIONS)
        with psycopg.connect(pg_server.conninfo(OWNER, name)) as conn:
            assert init(conn, config, ledger).after == 1
    with connect_as(pg_server, "alice", name) as alice:
        with pytest.raises(psycopg.errors.UndefinedTable):
            alice.execute("SELECT 1 FROM quorum.rotation_overrides")
        alice.execute("SELECT * FROM quorum.audit_append('kept', 'api', '', '', '', '', '', '')")
    with psycopg.connect(pg_server.conninfo(OWNER, name)) as conn:
        upgraded = init(conn, config, ledger)
        again = init(conn, config, ledger)
    assert (upgraded.before, upgraded.after) == (1, 2)
    assert upgraded.done == "schema upgraded from version 1 to 2"
    assert again.done == "schema version 2 already current"
    with connect_as(pg_server, "alice", name) as alice:
        assert one(alice, "SELECT action FROM quorum.audit_log WHERE seq = 1") == "kept"
        change = override(alice)
        assert one(alice, "SELECT who FROM quorum.rotation_overrides WHERE id = %s",
                   (change,)) == "carol"  # fmt: skip
        assert one(alice, "SELECT version FROM quorum.schema_version") == 2


def test_control_characters_never_reach_another_members_screen(
    alice: psycopg.Connection,
) -> None:
    hostile = "carol\x1b]0;owned\x07"
    with pytest.raises(psycopg.errors.CheckViolation, match="control characters"):
        override(alice, holder=hostile)
    with pytest.raises(psycopg.errors.CheckViolation, match="control characters"):
        alice.execute(
            "SELECT quorum.gate_vote('ci:8/production', true, %s, %s, '')",
            (datetime.now(UTC), "fine\x1b[2J"),
        )
    assert one(alice, "SELECT count(*) FROM quorum.rotation_overrides WHERE who = %s",
               (hostile,)) == 0  # fmt: skip
