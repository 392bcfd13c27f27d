"""The server, not the client, decides who acts: a member with psql and the ledger's
functions cannot act as another member, rewrite the past, or run an unapproved change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from console.store.audit import check_chain
from tests.pg_support import OWNER, PgServer, connect_as, initialised

VOTE = json.dumps({"approve": True, "comment": "", "version": 1})


@pytest.fixture(scope="module")
def ledger(pg_server: PgServer) -> str:
    return initialised(pg_server, "enforcement")


@pytest.fixture
def alice(pg_server: PgServer, ledger: str) -> Iterator[psycopg.Connection]:
    with connect_as(pg_server, "alice", ledger) as conn:
        yield conn


def propose(conn: psycopg.Connection, revision: str = "v2") -> int:
    """Opens a production deploy through the ledger's functions, as the connection's role."""
    with conn.transaction():
        row = conn.execute("SELECT quorum.next_proposal_id()").fetchone()
        assert row is not None
        pid = int(row[0])
        conn.execute(
            "SELECT quorum.propose(%s, 'deploy', 'k8s', 'api', 'production', 'deployment/api',"
            " %s, NULL, 'release', %s, '{}', '')",
            (pid, revision, datetime.now(UTC)),
        )
    return pid


def vote(conn: psycopg.Connection, pid: int, body: str = VOTE) -> None:
    conn.execute("SELECT quorum.add_act(%s, 'vote', %s, %s, '')", (pid, datetime.now(UTC), body))


def claim(conn: psycopg.Connection, pid: int, revision: str = "v2") -> bool:
    row = conn.execute(
        "SELECT quorum.claim(%s, 'deploy', 'k8s', 'api', 'production', 'deployment/api', %s,"
        " %s, 'laptop', 1, '')",
        (f"proposal-{pid}", revision, pid),
    ).fetchone()
    assert row is not None
    return bool(row[0])


def state(conn: psycopg.Connection, pid: int) -> str:
    row = conn.execute("SELECT quorum.proposal_state(%s)", (pid,)).fetchone()
    assert row is not None
    return str(row[0])


def test_a_member_cannot_insert_a_vote_as_another(alice: psycopg.Connection) -> None:
    pid = propose(alice)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        alice.execute(
            "INSERT INTO quorum.proposal_acts (proposal_id, kind, author, at, body) "
            "VALUES (%s, 'vote', 'bob', now(), %s)",
            (pid, VOTE),
        )
    # Through the function the author is the session's role, whatever the body says.
    vote(alice, pid, json.dumps({"approve": True, "version": 1, "voter": "bob"}))
    authors = alice.execute(
        "SELECT author FROM quorum.proposal_acts WHERE proposal_id = %s ORDER BY seq", (pid,)
    ).fetchall()
    assert authors == [("alice",), ("alice",)]
    assert state(alice, pid) == "open"  # her own approval does not count


def test_a_member_cannot_update_a_vote_nor_delete_an_audit_record(
    pg_server: PgServer, ledger: str, alice: psycopg.Connection
) -> None:
    pid = propose(alice)
    with connect_as(pg_server, "bob", ledger) as bob:
        vote(bob, pid, json.dumps({"approve": False, "comment": "", "version": 1}))
    alice.execute(
        "SELECT * FROM quorum.audit_append('vote', 'api', 'production', '', 'approved', '', '', '')"
    )
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        alice.execute(
            "UPDATE quorum.proposal_acts SET body = %s WHERE proposal_id = %s", (VOTE, pid)
        )
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        alice.execute("DELETE FROM quorum.audit_log")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        alice.execute("TRUNCATE quorum.audit_log")
    body = alice.execute(
        "SELECT body FROM quorum.proposal_acts WHERE proposal_id = %s AND author = 'bob'", (pid,)
    ).fetchone()
    assert body is not None and json.loads(body[0])["approve"] is False


def test_a_member_cannot_mark_her_proposal_approved_nor_claim_its_execution(
    pg_server: PgServer, ledger: str, alice: psycopg.Connection
) -> None:
    pid = propose(alice)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        alice.execute("UPDATE quorum.proposals SET state = 'approved' WHERE id = %s", (pid,))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        alice.execute(
            "INSERT INTO quorum.action_claims (key, action, who, provider, service, "
            "environment, target, revision, proposal_id, started_at) VALUES "
            "(%s, 'deploy', 'alice', 'k8s', 'api', 'production', 'deployment/api', 'v2', %s,"
            " now())",
            (f"proposal-{pid}", pid),
        )
    with pytest.raises(psycopg.errors.CheckViolation, match="is open by the server's count"):
        claim(alice, pid)
    with pytest.raises(psycopg.errors.CheckViolation, match="is not this action's"):
        alice.execute(
            "SELECT quorum.claim('proposal-' || %s, 'deploy', 'k8s', 'api', 'production', "
            "'deployment/api', 'v2', NULL, '', NULL, '')",
            (pid,),
        )
    with connect_as(pg_server, "bob", ledger) as bob:
        vote(bob, pid)
    assert state(alice, pid) == "open"  # one approval of the two production needs
    with connect_as(pg_server, "carol", ledger) as carol:
        vote(carol, pid)
    assert state(alice, pid) == "approved"
    with pytest.raises(psycopg.errors.CheckViolation, match="does not ask for this change"):
        claim(alice, pid, revision="v3")
    assert claim(alice, pid) is True
    assert claim(alice, pid) is False  # claimed once, whoever asks again


def test_an_outsider_can_neither_read_nor_act(pg_server: PgServer, ledger: str) -> None:
    with connect_as(pg_server, "mallory", ledger) as mallory:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            mallory.execute("SELECT count(*) FROM quorum.audit_log")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            mallory.execute("SELECT quorum.next_proposal_id()")


def test_the_server_chains_the_audit_log_as_sqlite_does(pg_server: PgServer, ledger: str) -> None:
    """Each record's hash is computed in SQL, over the same text as `console.store.audit`:
    the Python checker finds the chain intact, awkward text included."""
    comments = ['quote " and \\ back', "naïve ✓ 東京", "tab\there", ""]
    for role, comment in zip(["alice", "bob", "carol", "alice"], comments, strict=True):
        with connect_as(pg_server, role, ledger) as conn:
            conn.execute(
                "SELECT * FROM quorum.audit_append('vote', 'api', 'production', 'v2', "
                "'approved', %s, 'proposal-1', '')",
                (comment,),
            )
    with connect_as(pg_server, OWNER, ledger) as owner:
        rows = owner.execute("SELECT * FROM quorum.audit_log ORDER BY seq").fetchall()
        head = owner.execute("SELECT seq, hash FROM quorum.audit_head").fetchone()
    assert head is not None
    assert check_chain(rows, (head[0], head[1])).ok
    assert [r[2] for r in rows][-4:] == ["alice", "bob", "carol", "alice"]
    assert [r[8] for r in rows][-4:] == comments


def test_control_characters_never_reach_the_audit_log(alice: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.CheckViolation, match="control characters"):
        alice.execute(
            "SELECT * FROM quorum.audit_append('vote', %s, '', '', '', '', '', '')",
            ("api\x1b]8;;evil\x07",),
        )
