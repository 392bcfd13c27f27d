"""Every test gets its own data directory and no config from the person running it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.ci_support import loopback_server
from tests.pg_support import Ledgers, PgServer, running


@pytest.fixture(autouse=True)
def isolated_quorum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "quorum-data"
    monkeypatch.setenv("QUORUM_DATA_DIR", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("QUORUM_STATE_DIR", str(tmp_path / "quorum-state"))
    monkeypatch.delenv("QUORUM_CONFIG", raising=False)
    monkeypatch.delenv("QUORUM_ACT_AS", raising=False)
    return data


@pytest.fixture(autouse=True)
def no_signer_left_behind() -> Iterator[None]:
    """A command run in-process with a team's keys signs every audit log the process
    opens afterwards (one process is one command in real use); a test must not hand
    that signer to the next test."""
    yield
    audit = sys.modules.get("console.store.audit")
    if audit is not None:
        audit.sign_records(None)


@pytest.fixture(scope="session")
def make_httpserver() -> Iterator[HTTPServer]:
    """The plugin's shared server, threaded: single-threaded, one idle connection left
    open by a client would make its `stop` wait for ever at the end of the session."""
    yield from loopback_server()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One real PostgreSQL 15 server for the session's ledger tests (tests/pg_support.py)."""
    with running() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgres"])
def ledgers(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Ledgers:
    """The same test on the SQLite file and on a fresh PostgreSQL ledger (one database
    per test module, emptied for each test): the consensus and audit suites hold on both."""
    for key in ("PGUSER", "PGPASSWORD"):
        monkeypatch.setenv(key, "")  # `Ledgers` sets them as it acts; restored after the test
    server = request.getfixturevalue("pg_server") if request.param == "postgres" else None
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:40]
    return Ledgers(tmp_path, server, name)
