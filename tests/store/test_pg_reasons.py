"""libpq's lines about a ledger out of reach, said short for the status line: what failed
and where, from real failures of a real libpq."""

from __future__ import annotations

import socket

import psycopg
import pytest

from console.store.postgres.connect import first_line
from console.store.postgres.reasons import brief
from tests.pg_support import PgServer


def failure(conninfo: str) -> str:
    with pytest.raises(psycopg.OperationalError) as failed:
        psycopg.connect(conninfo, connect_timeout=5)
    return first_line(failed.value)


def test_a_refused_connection_is_said_with_its_address() -> None:
    with socket.socket() as s:  # a port nobody listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        line = failure(f"host=127.0.0.1 port={port} dbname=quorum user=alice")
    assert "Connection refused" in line and len(line) > 80  # what libpq says: too long
    assert brief(line) == f"connection refused (127.0.0.1:{port})"


def test_a_refused_login_keeps_the_servers_reason(pg_server: PgServer) -> None:
    line = failure(f"host=127.0.0.1 port={pg_server.port} dbname=quorum user=alice password=wrong")
    assert brief(line) == (
        f'password authentication failed for user "alice" (127.0.0.1:{pg_server.port})'
    )


def test_a_socket_and_other_lines() -> None:
    line = failure("host=/nonexistent-dir port=5999 dbname=quorum user=alice")
    assert brief(line) == "no such file or directory (/nonexistent-dir/.s.PGSQL.5999)"
    broken = "consuming input failed: server closed the connection unexpectedly"
    assert brief(broken) == "server closed the connection unexpectedly"
    assert brief("the chain head was deleted") == "the chain head was deleted"
