"""Consensus from the command line on a PostgreSQL ledger: the server names each actor,
the clients count, and the server counts again before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.cli.main import main
from tests.pg_support import PgServer, connect_as, initialised

PROVIDER = '[[providers]]\nname = "sim"\nkind = "sandbox"\nplatform = "kubernetes"\n'


@pytest.fixture(autouse=True)
def quiet_teammates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")


class Team:
    """`quorum` run as one database role or another, through libpq's own variables."""

    def __init__(
        self,
        server: PgServer,
        database: str,
        config: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        self.server, self.database, self.config = server, database, config
        self.capsys, self.monkeypatch = capsys, monkeypatch
        self.out = self.err = ""

    def __call__(self, who: str, *argv: str) -> int:
        for key, value in self.server.env(who).items():
            self.monkeypatch.setenv(key, value)
        code = main([*argv, "--config", str(self.config)])
        captured = self.capsys.readouterr()
        self.out, self.err = captured.out, captured.err
        return code

    def json(self, who: str, *argv: str) -> dict:
        assert self(who, *argv, "--json") == 0, self.err
        return json.loads(self.out)


def team(
    pg_server: PgServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    members: str = '"alice", "bob", "carol"',
) -> Team:
    database = initialised(pg_server, "consensus_cli")
    config = tmp_path / "quorum.toml"
    config.write_text(
        f"[team]\nmembers = [{members}]\n[policy.production]\nmin_approvals = 2\n"
        f'[ledger]\nurl = "postgresql://127.0.0.1:{pg_server.port}/{database}"\n\n{PROVIDER}'
    )
    return Team(pg_server, database, config, capsys, monkeypatch)


def test_a_production_deploy_runs_once_two_others_approve(
    pg_server: PgServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    q = team(pg_server, tmp_path, capsys, monkeypatch)
    assert q("alice", "deploy", "api", "--env", "production", "--revision", "v3.0.0") == 3, q.err
    assert "production needs consensus: opened proposal 1" in q.err
    assert q("alice", "vote", "1", "approve") == 3
    assert "self-approval" in q.err
    assert q("bob", "vote", "1", "approve") == 0, q.err
    (waiting,) = q.json("carol", "approvals")["proposals"]
    assert (waiting["state"], waiting["needed"], waiting["proposer"]) == ("open", 1, "alice")
    voted = q.json("carol", "vote", "1", "approve")
    assert (voted["state"], voted["approvals"]) == ("executed", ["bob", "carol"])
    assert q("bob", "audit", "verify") == 0
    assert q.out.startswith("ok: ")
    records = q.json("bob", "audit", "tail")
    assert isinstance(records, list)
    assert [(r["who"], r["action"], r["outcome"]) for r in records] == [
        ("alice", "propose", "open"),
        ("alice", "vote", "refused"),
        ("bob", "vote", "approve"),
        ("carol", "vote", "approve"),
        ("carol", "deploy", "started"),
        ("carol", "deploy", "finished"),
    ]
    with connect_as(pg_server, "bob", q.database) as bob:
        claimed = bob.execute("SELECT who, outcome FROM quorum.action_claims").fetchall()
        state = bob.execute("SELECT state FROM quorum.proposals WHERE id = 1").fetchall()
    assert claimed == [("carol", "finished")]
    assert state == [("executed",)]


def test_a_role_outside_the_team_is_refused_by_the_server_whatever_the_config_says(
    pg_server: PgServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    q = team(pg_server, tmp_path, capsys, monkeypatch, '"alice", "bob", "carol", "mallory"')
    assert q("alice", "deploy", "api", "--env", "production", "--revision", "v3.0.0") == 3
    assert q("mallory", "vote", "1", "approve") == 3
    assert q.err == (
        "quorum: the ledger's server refused: permission denied for schema quorum "
        "(only the team's role may)\n"
    )
    assert q("bob", "approvals", "--json") == 0
    (waiting,) = json.loads(q.out)["proposals"]
    assert waiting["approvals"] == []


def test_the_same_change_is_not_proposed_twice_an_amended_proposal_included(
    pg_server: PgServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server's row keeps the revision as proposed: an amended proposal is still
    found as the twin of the revision it now asks for, and only of that one."""
    q = team(pg_server, tmp_path, capsys, monkeypatch)
    for revision in ("v1", "v2"):
        assert q.json("alice", "propose", "deploy", "api", "--env", "production",
                      "--revision", revision)["state"] == "open"  # fmt: skip
    assert q("alice", "propose", "amend", "1", "--revision", "v3") == 0, q.err
    assert q("bob", "propose", "deploy", "api", "--env", "production", "--revision", "v3") == 3
    assert "not proposed again: proposal 1 already proposes deploy api@production to v3" in q.err
    assert q("bob", "propose", "deploy", "api", "--env", "production", "--revision", "v2") == 3
    assert "not proposed again: proposal 2 already proposes" in q.err
    made = q.json("bob", "propose", "deploy", "api", "--env", "production", "--revision", "v1")
    assert made["id"] == 3
    waiting = q.json("carol", "approvals")["proposals"]
    assert sorted((p["id"], p["revision"]) for p in waiting) == [(1, "v3"), (2, "v2"), (3, "v1")]
