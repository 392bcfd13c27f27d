"""`quorum ledger init` against a real server: created once, idempotent, run by the owner."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from console.cli.main import main
from console.domain.errors import UsageError
from console.domain.settings import Config, LedgerConfig
from console.store.postgres.schema import SCHEMA_VERSION
from console.store.postgres.setup import init
from tests.ci_support import team_config
from tests.pg_support import OWNER, PgServer, connect_as, fresh_database, initialised


def run(capsys: pytest.CaptureFixture[str], config: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["ledger", *argv, "--config", str(config)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def config(pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A team whose production needs 3 approvals, on a fresh database; libpq logs in as
    the owner through its own variables, as an administrator's shell would."""
    name = fresh_database(pg_server, "init_cli")
    for key, value in pg_server.env(OWNER).items():
        monkeypatch.setenv(key, value)
    body = f'[ledger]\nurl = "postgresql://127.0.0.1:{pg_server.port}/{name}"\n'
    return team_config(tmp_path, body, approvals=3)


def test_init_creates_the_schema_once_and_prints_a_grant_per_member(
    pg_server: PgServer, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, config, "init")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].endswith(f"schema version {SCHEMA_VERSION} created; owned by {OWNER}")
    assert lines[2:] == [
        f'  GRANT quorum_member TO "{name}";' for name in ("alice", "bob", "carol")
    ]
    code, out, _ = run(capsys, config, "init")
    assert code == 0
    assert f"schema version {SCHEMA_VERSION} already current" in out.splitlines()[0]
    with connect_as(pg_server, "alice", "init_cli") as alice:
        version = alice.execute("SELECT version FROM quorum.schema_version").fetchall()
        policy = alice.execute(
            "SELECT min_approvals FROM quorum.policies WHERE environment = 'production'"
        ).fetchall()
        tables = alice.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'quorum'"
        ).fetchall()
    assert version == [(SCHEMA_VERSION,)]
    assert policy == [(3,)]
    assert tables == [(OWNER,)]


def test_init_as_a_member_is_refused(
    pg_server: PgServer,
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in pg_server.env("alice").items():
        monkeypatch.setenv(key, value)
    code, out, err = run(capsys, config, "init")
    assert code == 2
    assert "alice is a member of quorum_member: run `quorum ledger init` as a role" in err
    with connect_as(pg_server, OWNER, "init_cli") as owner:
        found = owner.execute("SELECT to_regclass('quorum.audit_log')").fetchone()
    assert found == (None,)


def test_an_unreachable_server_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "2")
    config = team_config(tmp_path, '[ledger]\nurl = "postgresql://127.0.0.1:1/quorum"\n')
    code, out, err = run(capsys, config, "init")
    assert code == 1
    assert err.startswith("quorum: ledger postgresql://127.0.0.1:1/quorum: ")
    assert len(err.splitlines()) == 1


def test_without_a_ledger_section_init_says_what_to_add(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, team_config(tmp_path, ""), "init")
    assert code == 2
    assert "no [ledger] section; add one" in err


def test_a_missing_member_role_is_named_with_the_statement_that_makes_it(
    pg_server: PgServer,
) -> None:
    """Creating roles is the administrator's; init says which one to create."""
    name = fresh_database(pg_server, "init_norole")
    ledger = LedgerConfig(url="postgresql://unused/db", member_role="ops_team")
    with (
        psycopg.connect(pg_server.conninfo(OWNER, name)) as conn,
        pytest.raises(UsageError, match="CREATE ROLE ops_team NOLOGIN"),
    ):
        init(conn, Config(members=("alice",)), ledger)


def test_config_check_on_the_ledger_does_not_judge_the_os_account(
    pg_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """On PostgreSQL the server names who acts (alice, by libpq's login), so the laptop's
    account, no member's name, is no reason to warn; on the file it still is."""
    name = initialised(pg_server, "check_cli")
    monkeypatch.setenv("QUORUM_ACT_AS", "laptop")
    for key, value in pg_server.env("alice").items():
        monkeypatch.setenv(key, value)
    on_file = team_config(tmp_path, "")
    assert main(["config", "check", "--config", str(on_file)]) == 0
    assert "does not list laptop" in capsys.readouterr().err
    body = f'[ledger]\nurl = "postgresql://127.0.0.1:{pg_server.port}/{name}"\n'
    on_ledger = team_config(tmp_path, body)
    assert main(["config", "check", "--config", str(on_ledger)]) == 0
    captured = capsys.readouterr()
    assert "ledger: PostgreSQL at" in captured.out
    assert "does not list" not in captured.err, captured.err


def test_config_check_says_what_unsigned_votes_risk_on_the_server_not_a_file(
    pg_server: PgServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = initialised(pg_server, "check_unsigned")
    body = f'[ledger]\nurl = "postgresql://127.0.0.1:{pg_server.port}/{name}"\n'
    assert main(["config", "check", "--config", str(team_config(tmp_path, body))]) == 0
    (unsigned,) = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith("votes are")
    ]
    assert "shared file" not in unsigned
    assert "the server names each act's author" in unsigned
    assert "whoever administers the database server" in unsigned
