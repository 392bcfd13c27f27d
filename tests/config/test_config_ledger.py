"""`[ledger]`: a PostgreSQL ledger named by URL or service, never with its password."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli.main import main
from console.config.load import ConfigError, load_config

TEAM = '[team]\nname = "ops"\nmembers = ["alice", "bob"]\n\n'


def write(tmp_path: Path, ledger: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(TEAM + "[ledger]\n" + ledger)
    return path


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["config", "check", "--config", str(path)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_url_or_a_service_names_the_ledger(tmp_path: Path) -> None:
    by_url = load_config(write(tmp_path, 'url = "postgresql://db.internal:5433/quorum"\n'))
    assert by_url.ledger is not None
    assert by_url.ledger.conninfo == "postgresql://db.internal:5433/quorum"
    assert by_url.ledger.member_role == "quorum_member"
    by_service = load_config(write(tmp_path, 'service = "quorum"\nmember_role = "ops_team"\n'))
    assert by_service.ledger is not None
    assert by_service.ledger.conninfo == "service=quorum"
    assert by_service.ledger.member_role == "ops_team"


def test_without_a_ledger_section_the_ledger_is_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(TEAM)
    assert load_config(path).ledger is None


@pytest.mark.parametrize(
    "ledger",
    [
        'url = "postgresql://alice:hunter2@db.internal/quorum"\n',
        'url = "postgresql://db.internal/quorum?sslmode=require&password=hunter2"\n',
        'url = "postgresql://db.internal/quorum"\npassword = "hunter2"\n',
    ],
)
def test_a_password_in_the_file_is_refused_with_its_line_and_never_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ledger: str
) -> None:
    path = write(tmp_path, ledger)
    code, out = check(path, capsys)
    assert code != 0
    line = 7 if "password =" in ledger else 6
    key = "ledger.password" if "password =" in ledger else "ledger.url"
    assert f"{path}:{line}: {key}: " in out
    assert "pgpass" in out
    assert "hunter2" not in out


@pytest.mark.parametrize(
    ("ledger", "said"),
    [
        ("", "names no server"),
        ('url = "mysql://db/quorum"\n', 'expected a URL starting "postgresql://"'),
        ('url = "postgresql://db/q"\nservice = "q"\n', "either url or service, not both"),
        ('service = "q w"\n', "a service name is"),
        ('service = "q"\nmember_role = "Robert\'); DROP"\n', "a role name is"),
    ],
)
def test_a_ledger_that_names_no_usable_server_is_a_problem_of_the_file(
    tmp_path: Path, ledger: str, said: str
) -> None:
    with pytest.raises(ConfigError, match=said) as bad:
        load_config(write(tmp_path, ledger))
    assert f"{tmp_path / 'config.toml'}:" in str(bad.value)


def test_check_names_the_ledger_and_commands_never_fall_back_to_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A config naming a PostgreSQL ledger never falls back to the local SQLite file:
    that would split the team's ledger without anyone noticing."""
    path = write(tmp_path, 'url = "postgresql://db.internal/quorum"\n')
    code, out = check(path, capsys)
    assert code == 0
    assert "ledger: PostgreSQL at postgresql://db.internal/quorum; the team is the members" in out
    closed = write(tmp_path, 'url = "postgresql://127.0.0.1:1/quorum"\n')  # nothing listens
    code, out = command(closed, capsys, "rotation", "swap", "list")
    assert code == 1
    assert out.startswith("quorum: ledger postgresql://127.0.0.1:1/quorum: ")
    assert out.count("\n") == 1  # one line, no traceback
    code, out = command(path, capsys, "status", "--json")  # providers only: no ledger
    assert (code, out) == (0, "[]\n")
    assert not (tmp_path / "quorum-data" / "audit.db").exists()


def command(path: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main([*argv, "--config", str(path)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err
