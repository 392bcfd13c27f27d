"""Rotation changes and votes on a provider's own approval from the command line, on a
PostgreSQL ledger: kept there (each member sees the others' changes), authored by the
role the server authenticated, audited in the ledger, and nothing in a local file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.cli.main import main
from console.domain.settings import LedgerConfig
from console.store.postgres.audit import PgAuditLog
from tests.ci_support import TOKENS, loopback_server
from tests.github_fake import FakeGitHub, job, pending, run
from tests.pg_support import PgServer, connect_as, initialised

ROTATION = """
[[rotation]]
name = "primary"
every = "week"
members = ["alice"]
start = 2026-01-05
handoff = "09:00"
timezone = "UTC"
"""
# A handoff every day at midnight UTC: the latest is never more than a day old.
DAILY = (
    ROTATION.replace('"week"', '"day"')
    .replace('["alice"]', '["alice", "bob"]')
    .replace('"09:00"', '"00:00"')
)


class Member:
    """`quorum` run as one database role (libpq's variables), with that member's token."""

    def __init__(
        self,
        server: PgServer,
        config: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        self.server, self.config = server, config
        self.capsys, self.monkeypatch = capsys, monkeypatch
        self.out = self.err = ""

    def __call__(self, who: str, *argv: str) -> int:
        for key, value in self.server.env(who).items():
            self.monkeypatch.setenv(key, value)
        self.monkeypatch.setenv("GITHUB_TOKEN", TOKENS[who])
        code = main([*argv, "--config", str(self.config)])
        captured = self.capsys.readouterr()
        self.out, self.err = captured.out, captured.err
        return code

    def json(self, who: str, *argv: str) -> object:
        assert self(who, *argv, "--json") == 0, self.err
        return json.loads(self.out)


def ledger_url(server: PgServer, name: str) -> str:
    return f"postgresql://127.0.0.1:{server.port}/{initialised(server, name)}"


def audit(url: str) -> list[tuple[str, str, str]]:
    """The ledger's audit records, read as the member the environment names last."""
    log = PgAuditLog(LedgerConfig(url=url))
    try:
        return [(r.action, r.who, r.target) for r in log.tail(100)]
    finally:
        log.close()


@pytest.fixture(autouse=True)
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")


def test_overrides_and_swaps_are_kept_on_the_ledger_and_seen_by_every_member(
    pg_server: PgServer,
    tmp_path: Path,
    isolated_quorum: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = ledger_url(pg_server, "schedule_cli")
    config = tmp_path / "quorum.toml"
    config.write_text(
        f'[team]\nmembers = ["alice", "bob", "carol"]\n{ROTATION}[ledger]\nurl = "{url}"\n'
    )
    q = Member(pg_server, config, capsys, monkeypatch)
    now = datetime.now(UTC).replace(microsecond=0)
    soon, later = now + timedelta(hours=2), now + timedelta(hours=6)
    iso = "%Y-%m-%dT%H:%M:%SZ"

    assert q("alice", "rotation", "override", "primary", "--who", "carol", "--from", "now",
             "--to", soon.strftime(iso), "--reason", "at the dentist") == 0, q.err  # fmt: skip
    (slot,) = q.json("bob", "rotation")["rotations"]
    assert (slot["holder"], slot["override"]) == ("carol", True)

    assert q("alice", "rotation", "swap", "request", "primary", "--from", soon.strftime(iso),
             "--to", later.strftime(iso), "--reason", "school run") == 0, q.err  # fmt: skip
    (offered,) = q.json("carol", "rotation", "swap", "list")
    assert (offered["requested_by"], offered["reason"]) == ("alice", "school run")
    assert q("alice", "rotation", "swap", "take", offered["id"]) == 3
    assert "cannot be taken by the person who offered it" in q.err
    assert q("bob", "rotation", "swap", "take", offered["id"]) == 0, q.err
    assert q("carol", "rotation", "swap", "take", offered["id"]) == 3
    assert "already taken by bob" in q.err
    at = (soon + timedelta(hours=1)).strftime(iso)
    (slot,) = q.json("carol", "rotation", "--at", at)["rotations"]
    assert (slot["holder"], slot["swap"]) == ("bob", True)

    # Carol ends the override early; the schedule says alice holds it again now.
    with connect_as(pg_server, "carol", "schedule_cli") as carol:
        ((override_id,),) = carol.execute("SELECT id FROM quorum.rotation_overrides").fetchall()
    assert q("carol", "rotation", "cancel", override_id) == 0, q.err
    (slot,) = q.json("bob", "rotation")["rotations"]
    assert (slot["holder"], slot["override"]) == ("alice", False)

    assert [a for a in audit(url) if a[0].startswith("rotation.")] == [
        ("rotation.override", "alice", "primary"),
        ("rotation.swap.request", "alice", "primary"),
        ("rotation.swap.take", "bob", "primary"),
        ("rotation.override.cancel", "carol", "primary"),
    ]
    assert not (isolated_quorum / "audit.db").exists()  # nothing split off beside the ledger


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    api, download = loopback_server(), loopback_server()
    fake = FakeGitHub(next(api), next(download))
    fake.runs["collective/website"] = [
        run(301, "production.yml", status="waiting", conclusion=None, number=7)
    ]
    fake.jobs[301] = [job(3001, "deploy", status="waiting", conclusion=None)]
    fake.pending[301] = [pending(55, "production")]
    yield fake
    for server in (api, download):
        server.close()


def test_votes_on_a_providers_approval_are_held_on_the_ledger_until_the_quorum(
    pg_server: PgServer,
    tmp_path: Path,
    isolated_quorum: Path,
    gh: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = ledger_url(pg_server, "gates_cli")
    config = tmp_path / "quorum.toml"
    config.write_text(
        f"""
[team]
members = ["alice", "bob", "carol"]

[policy.production]
min_approvals = 2
forward_after_quorum = true

[[providers]]
name = "ci"
kind = "github"
repo = "collective/website"
api_url = "{gh.url}"
token_env = "GITHUB_TOKEN"
workflows = {{ "production.yml" = "production" }}
retries = 1

[ledger]
url = "{url}"
"""
    )
    q = Member(pg_server, config, capsys, monkeypatch)
    first = q.json("alice", "vote", "ci:301/production", "approve")
    assert (first["sent"], first["approvals"], first["needed"]) == (None, ["alice"], 1)
    (held,) = q.json("carol", "approvals")["provider_approvals"]
    assert (held["quorum"]["approvals"], held["quorum"]["needed"]) == (["alice"], 1)
    assert gh.requests("POST") == []
    second = q.json("bob", "vote", "ci:301/production", "approve", "--comment", "ship it")
    assert (second["sent"], second["ok"], second["approvals"]) == ("approved", True,
                                                                   ["alice", "bob"])  # fmt: skip
    (post,) = gh.requests("POST")
    assert post.auth == f"Bearer {TOKENS['bob']}" and "alice, bob" in post.body["comment"]
    assert q("carol", "vote", "ci:301/production", "approve") == 2  # answered: nothing sent
    assert "not waiting in provider ci" in q.err
    assert len(gh.requests("POST")) == 1
    gates = [(a, w) for a, w, t in audit(url) if a in ("gate-vote", "provider-answer")]
    assert gates == [
        ("gate-vote", "alice"),
        ("gate-vote", "bob"),
        ("provider-answer", "bob"),
    ]
    with connect_as(pg_server, "carol", "gates_cli") as carol:
        voters = carol.execute("SELECT voter, approve FROM quorum.gate_votes ORDER BY seq")
        assert voters.fetchall() == [("alice", True), ("bob", True)]
    assert not (isolated_quorum / "audit.db").exists()


def test_a_handoff_is_announced_once_for_the_whole_team(
    pg_server: PgServer,
    tmp_path: Path,
    isolated_quorum: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`rotation notify` run from cron on two members' machines: the ledger's claim lets
    one notice out, and its record is on the ledger."""
    hooks = loopback_server()
    hook = next(hooks)
    hook.expect_request("/hook", method="POST").respond_with_json({})
    monkeypatch.setenv("HOOK_URL", hook.url_for("/hook"))
    url = ledger_url(pg_server, "notify_cli")
    config = tmp_path / "quorum.toml"
    config.write_text(
        f'[team]\nmembers = ["alice", "bob", "carol"]\n{DAILY}\n[[notify]]\nkind = "webhook"'
        f'\nurl_env = "HOOK_URL"\n\n[ledger]\nurl = "{url}"\n'
    )
    q = Member(pg_server, config, capsys, monkeypatch)
    try:
        (first,) = q.json("alice", "rotation", "notify", "--within", "2d")
        (second,) = q.json("bob", "rotation", "notify", "--within", "2d")
        assert len(hook.log) == 1
    finally:
        hooks.close()
    assert first["status"] == "sent" and first["holder"] in ("alice", "bob")
    assert second["status"] == "already sent"
    assert [(a, w) for a, w, _ in audit(url) if a == "rotation.notify"] == [("rotation.notify",
                                                                             "alice")]  # fmt: skip
    assert not (isolated_quorum / "audit.db").exists()
