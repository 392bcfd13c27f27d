"""The test server is what the ledger's tests claim it is: a real server, real roles."""

from __future__ import annotations

import psycopg
import pytest

from tests.pg_support import MEMBER_ROLE, MEMBERS, OUTSIDER, PgServer


def member_of_team(server: PgServer, role: str) -> bool:
    with psycopg.connect(server.conninfo(role)) as conn:
        row = conn.execute(
            "SELECT session_user, pg_has_role(session_user, %s, 'MEMBER')", (MEMBER_ROLE,)
        ).fetchone()
    assert row is not None and row[0] == role
    return bool(row[1])


def test_members_log_in_as_themselves_and_belong_to_the_team(pg_server: PgServer) -> None:
    assert [member_of_team(pg_server, role) for role in MEMBERS] == [True, True, True]
    assert member_of_team(pg_server, OUTSIDER) is False


def test_a_wrong_password_is_refused_by_the_server(pg_server: PgServer) -> None:
    info = pg_server.conninfo("alice").replace(pg_server.passwords["alice"], "not-hers")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(info)
