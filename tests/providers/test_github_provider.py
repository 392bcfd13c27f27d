"""GitHub Actions against a loopback API built from the documented shapes: runs as
targets, the failing job and step, waiting runs as approvals, votes sent as the
voter's own review, dispatch and re-run through the actions path, job logs."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from console.cli.main import main
from console.domain import gates
from console.domain.model import TargetRef
from console.store.db import from_text
from providers.base import ProviderContext
from providers.github import GitHubProvider
from tests.ci_support import TOKENS, Quorum, assert_no_token, audit_records, loopback_server
from tests.github_fake import SHA, FakeGitHub, job, pending, run
from tests.paths import FORGER
from tests.signing_support import start_team

REPO = "collective/website"


@pytest.fixture
def download() -> Iterator[HTTPServer]:
    yield from loopback_server()


@pytest.fixture
def gh(api: HTTPServer, download: HTTPServer) -> FakeGitHub:
    fake = FakeGitHub(api, download)
    fake.runs[REPO] = [
        run(101, "ci.yml", conclusion="failure", number=41),
        run(100, "ci.yml", conclusion="success", number=40),
        run(201, "deploy-site.yml", sha="feedface" * 5),
        run(301, "production.yml", status="waiting", conclusion=None, number=7),
    ]
    fake.jobs[101] = [job(1001, "lint"), job(1002, "test", conclusion="failure",
                                             failed_step="Run pytest")]  # fmt: skip
    fake.jobs[201] = [job(2001, "build"), job(2002, "publish")]
    fake.jobs[301] = [job(3001, "deploy", status="waiting", conclusion=None)]
    fake.pending[301] = [pending(55, "production")]
    fake.logs[2001] = "2026-03-01T10:00:06.1234567Z npm ci\n2026-03-01T10:00:09.0000000Z built\n"
    fake.logs[2002] = "2026-03-01T10:01:00.0000000Z uploaded 12 files\n"
    return fake


def write_config(
    tmp_path: Path,
    gh: FakeGitHub,
    *,
    forward: bool = False,
    extra: str = "",
    signers: Path | None = None,
) -> Path:
    config = tmp_path / "quorum.toml"
    keys = f'allowed_signers = "{signers}"' if signers else ""
    config.write_text(
        f"""
[team]
name = "collective"
members = ["alice", "bob", "carol"]
{keys}

[policy.production]
min_approvals = 2
forward_after_quorum = {"true" if forward else "false"}

[policy.staging]
min_approvals = 0

[[providers]]
name = "ci"
kind = "github"
repo = "{REPO}"
api_url = "{gh.url}"
token_env = "GITHUB_TOKEN"
workflows = {{ "ci.yml" = "ci", "deploy-site.yml" = "staging", "production.yml" = "production" }}
dispatch_inputs = {{ revision = "{{revision}}", environment = "{{environment}}" }}
retries = 1
{extra}
"""
    )
    return config


@pytest.fixture
def q(tmp_path: Path, gh: FakeGitHub, capsys, monkeypatch) -> Quorum:  # noqa: ANN001
    return Quorum(write_config(tmp_path, gh), capsys, monkeypatch, "GITHUB_TOKEN")


def test_status_shows_each_workflows_latest_run_and_the_failing_job_and_step(q: Quorum) -> None:
    rows = {r["environment"]: r for r in q.json("status")}
    assert set(rows) == {"ci", "staging", "production"}
    ci = rows["ci"]
    assert (ci["service"], ci["provider"], ci["status"], ci["revision"]) == (
        "website", "ci", "failed", SHA[:7],
    )  # fmt: skip
    assert ci["target"] == f"{REPO}:ci.yml"
    assert rows["staging"]["status"] == "ready"
    assert rows["production"]["status"] == "progressing"
    assert q("describe", "website", "--env", "ci") == 0
    assert "job test, step Run pytest" in q.out
    assert "push by octocat" in q.out and "3m12s" in q.out
    assert "rate limit: 49" in q.out and "of 5000 left" in q.out


async def test_a_second_refresh_is_conditional_and_costs_no_rate_limit(gh: FakeGitHub) -> None:
    provider = build(gh)
    try:
        first = await provider.snapshot()
        spent = gh.limit - gh.remaining
        assert spent >= 3  # one listing per workflow, the failed run's jobs
        second = await provider.snapshot()
        assert second.targets == first.targets
        assert gh.limit - gh.remaining == spent  # every answer was a 304
        assert provider.client.stats.not_modified == 3
        details = await provider.details(TargetRef("ci", "website", "ci", f"{REPO}:ci.yml"))
        lines = [e.message for e in details.events]
        assert any(line.startswith(f"rate limit: {gh.remaining} of 5000 left") for line in lines)
        assert [p.name for p in details.pods] == ["lint", "test"]
    finally:
        await provider.close()


def build(gh: FakeGitHub, **settings: object) -> GitHubProvider:
    base = {"repo": REPO, "api_url": gh.url, "token_env": "GITHUB_TOKEN",
            "workflows": {"ci.yml": "ci", "deploy-site.yml": "staging",
                          "production.yml": "production"}}  # fmt: skip
    return GitHubProvider("ci", {**base, **settings}, ProviderContext(data_dir=Path(".")))


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKENS["alice"])


def test_waiting_runs_appear_as_provider_approvals(q: Quorum) -> None:
    waiting = q.json("approvals")["provider_approvals"]
    assert len(waiting) == 1
    (item,) = waiting
    assert item["id"] == "ci:301/production"
    assert item["environment"] == "production"
    assert item["service"] == "website"
    assert item["requested_by"] == "octocat"
    assert "waits for production" in item["title"] and "reviewers: ops-team" in item["detail"]
    assert q("approvals") == 0
    assert "ci:301/production" in q.out


def test_a_vote_is_sent_as_the_voters_own_review(
    q: Quorum, gh: FakeGitHub, isolated_quorum: Path
) -> None:
    assert q("vote", "ci:301/production", "approve", "--comment", "looks right", who="bob") == 0
    (post,) = gh.requests("POST", "/pending_deployments")
    assert post.path == f"/repos/{REPO}/actions/runs/301/pending_deployments"
    assert post.body == {"environment_ids": [55], "state": "approved", "comment": "looks right"}
    assert post.auth == f"Bearer {TOKENS['bob']}"
    assert "approved sent: GitHub 200" in q.out
    record = [r for r in audit_records(isolated_quorum) if r["action"] == "provider-vote"][-1]
    assert (record["who"], record["outcome"], record["revision"]) == (
        "bob", "finished", "ci:301/production",
    )  # fmt: skip
    assert "approved (looks right): GitHub 200" in str(record["comment"])
    assert q.json("approvals")["provider_approvals"] == []
    assert_no_token(q.out, q.err, audit_records(isolated_quorum))


def test_a_rejection_is_sent_too(q: Quorum, gh: FakeGitHub) -> None:
    assert q("vote", "ci:301", "reject", "--comment", "wrong sha", who="carol") == 0
    (post,) = gh.requests("POST", "/pending_deployments")
    assert post.body == {"environment_ids": [55], "state": "rejected", "comment": "wrong sha"}
    assert post.auth == f"Bearer {TOKENS['carol']}"


def test_forward_after_quorum_holds_the_approval_until_the_quorum_then_sends_one(
    tmp_path: Path,
    gh: FakeGitHub,
    capsys,
    monkeypatch,
    isolated_quorum,  # noqa: ANN001
) -> None:
    q = Quorum(write_config(tmp_path, gh, forward=True), capsys, monkeypatch, "GITHUB_TOKEN")
    first = q.json("vote", "ci:301/production", "approve", who="alice")
    assert (first["sent"], first["approvals"], first["needed"]) == (None, ["alice"], 1)
    assert gh.requests("POST") == []
    again = q.json("vote", "ci:301/production", "approve", who="alice")  # one person, one vote
    assert (again["sent"], again["needed"]) == (None, 1)
    assert gh.requests("POST") == []
    second = q.json("vote", "ci:301/production", "approve", "--comment", "ship it", who="bob")
    assert (second["sent"], second["ok"]) == ("approved", True)
    assert second["approvals"] == ["alice", "bob"]
    (post,) = gh.requests("POST")
    assert post.body["state"] == "approved" and post.body["environment_ids"] == [55]
    assert "alice, bob" in post.body["comment"] and "bob: ship it" in post.body["comment"]
    assert post.auth == f"Bearer {TOKENS['bob']}"
    # Answered: the gate no longer waits, and a late vote sends nothing.
    assert q("vote", "ci:301/production", "approve", who="carol") == 2
    assert len(gh.requests("POST")) == 1
    actions = [(r["action"], r["who"], r["outcome"]) for r in audit_records(isolated_quorum)
               if str(r["key"]).startswith("gate:")]  # fmt: skip
    assert actions == [
        ("gate-vote", "alice", "recorded"),
        ("gate-vote", "alice", "recorded"),
        ("gate-vote", "bob", "recorded"),
        ("provider-answer", "bob", "finished"),
    ]


def test_held_votes_are_signed_and_one_written_into_the_file_by_hand_sends_nothing(
    tmp_path: Path,
    gh: FakeGitHub,
    capsys,
    monkeypatch,
    isolated_quorum,  # noqa: ANN001
) -> None:
    for team in start_team(tmp_path / "keys", ("alice", "bob", "carol")):
        monkeypatch.setenv("SSH_AUTH_SOCK", str(team.socket))
        config = write_config(tmp_path, gh, forward=True, signers=team.allowed_path)
        q = Quorum(config, capsys, monkeypatch, "GITHUB_TOKEN")
        assert q.json("vote", "ci:301/production", "approve", who="alice")["approvals"] == ["alice"]
        db = isolated_quorum / "audit.db"
        # bob's approval written with plain sqlite3, once with alice's signature copied.
        for copied, why in (
            ((), "not signed by bob"),
            (("alice",), "the signature is not bob's over this content"),
        ):
            forged = [sys.executable, str(FORGER), str(db), "insert-gate-vote"]
            subprocess.run([*forged, "ci:301/production", "bob", "approve", *copied], check=True)
            again = q.json("vote", "ci:301/production", "approve", who="alice")
            assert (again["sent"], again["approvals"], again["needed"]) == (None, ["alice"], 1)
            (held,) = q.json("approvals")["provider_approvals"]
            assert held["quorum"]["approvals"] == ["alice"]
            assert held["quorum"]["not_counted"] == [{"by": "bob", "why": why}]
            assert q("approvals") == 0
            assert f"bob's vote not counted: {why}" in q.out
        assert gh.requests("POST") == []
        sent = q.json("vote", "ci:301/production", "approve", who="bob")  # bob's own, signed
        assert (sent["sent"], sent["approvals"]) == ("approved", ["alice", "bob"])
        (post,) = gh.requests("POST")
        assert post.auth == f"Bearer {TOKENS['bob']}"
        # Each stored vote is its voter's SSH signature over the gate, in Quorum's namespace.
        with closing(sqlite3.connect(db)) as conn:
            rows = conn.execute("SELECT voter, at, signature FROM gate_votes ORDER BY voter")
            for voter, at, signature in rows.fetchall():
                act = gates.ballot("ci:301/production", "production", voter, True, from_text(at))
                team.allowed().check(voter, act.message(), signature)


def test_rejections_that_block_send_the_rejection(
    tmp_path: Path,
    gh: FakeGitHub,
    capsys,
    monkeypatch,  # noqa: ANN001
) -> None:
    q = Quorum(write_config(tmp_path, gh, forward=True), capsys, monkeypatch, "GITHUB_TOKEN")
    assert q.json("vote", "ci:301/production", "reject", who="alice")["sent"] is None
    assert gh.requests("POST") == []  # no single veto
    blocked = q.json("vote", "ci:301/production", "reject", who="carol")
    assert blocked["sent"] == "rejected"
    (post,) = gh.requests("POST")
    assert post.body["state"] == "rejected" and post.auth == f"Bearer {TOKENS['carol']}"


def test_deploy_dispatches_the_workflow_with_the_configured_inputs(
    q: Quorum,
    gh: FakeGitHub,
    isolated_quorum,  # noqa: ANN001
) -> None:
    assert q("deploy", "website", "--env", "staging", "--revision", "v2.4.0") == 0, q.err
    (post,) = gh.requests("POST")
    assert post.path == f"/repos/{REPO}/actions/workflows/deploy-site.yml/dispatches"
    assert post.body == {"ref": "main", "inputs": {"revision": "v2.4.0", "environment": "staging"}}
    assert post.auth == f"Bearer {TOKENS['alice']}"
    outcomes = [(r["action"], r["outcome"]) for r in audit_records(isolated_quorum)]
    assert outcomes[-2:] == [("deploy", "started"), ("deploy", "finished")]
    last = audit_records(isolated_quorum)[-1]
    assert "dispatched deploy-site.yml on main" in str(last["comment"])


def test_production_deploy_goes_through_a_proposal(q: Quorum, gh: FakeGitHub) -> None:
    assert q("deploy", "website", "--env", "production", "--revision", "v2.4.0") == 3
    assert gh.requests("POST") == []
    pid = q.json("approvals")["proposals"][0]["id"]
    q("vote", str(pid), "approve", who="bob")
    assert gh.requests("POST") == []
    assert q("vote", str(pid), "approve", who="carol") == 0, q.err
    (post,) = gh.requests("POST")
    assert post.path.endswith("/workflows/production.yml/dispatches")
    assert post.auth == f"Bearer {TOKENS['carol']}"


def test_rollback_dispatches_the_previous_successful_deployments_ref(
    q: Quorum,
    gh: FakeGitHub,
    isolated_quorum,  # noqa: ANN001
) -> None:
    gh.deployments[REPO] = [
        {"id": 3, "sha": "c" * 40, "ref": "main", "environment": "staging"},
        {"id": 2, "sha": "b" * 40, "ref": "release-2", "environment": "staging"},
        {"id": 1, "sha": "a" * 40, "ref": "release-1", "environment": "staging"},
        {"id": 9, "sha": "9" * 40, "ref": "main", "environment": "production"},
    ]
    gh.statuses[3] = [{"state": "success"}]
    gh.statuses[2] = [{"state": "failure"}]
    gh.statuses[1] = [{"state": "success"}]
    assert q("rollback", "website", "--env", "staging") == 0, q.err
    (post,) = gh.requests("POST")
    assert post.path.endswith("/workflows/deploy-site.yml/dispatches")
    assert post.body == {"ref": "release-1", "inputs": {"revision": "a" * 40,
                                                        "environment": "staging"}}  # fmt: skip
    last = audit_records(isolated_quorum)[-1]
    assert (last["action"], last["outcome"]) == ("rollback", "finished")
    assert "back to deployment 1" in str(last["comment"])


def test_rollback_as_a_rerun_of_the_previous_successful_run(
    tmp_path: Path,
    gh: FakeGitHub,
    capsys,
    monkeypatch,
    isolated_quorum,  # noqa: ANN001
) -> None:
    gh.runs[REPO] += [run(199, "deploy-site.yml", sha="1" * 40), run(150, "deploy-site.yml")]
    config = write_config(tmp_path, gh, extra='rollback = "rerun"')
    q = Quorum(config, capsys, monkeypatch, "GITHUB_TOKEN")
    assert q("rollback", "website", "--env", "staging") == 0, q.err
    (post,) = gh.requests("POST")
    assert post.path == f"/repos/{REPO}/actions/runs/199/rerun"
    assert "re-ran run 199" in str(audit_records(isolated_quorum)[-1]["comment"])


def test_job_logs_follow_the_redirect_without_the_token(q: Quorum, gh: FakeGitHub) -> None:
    assert q("logs", "website", "--env", "staging") == 0, q.err
    lines = q.out.splitlines()
    assert lines == [
        "2026-03-01T10:00:06Z -     [build] npm ci",
        "2026-03-01T10:00:09Z -     [build] built",
        "2026-03-01T10:01:00Z -     [publish] uploaded 12 files",
    ]
    downloads = gh.requests("GET", "download/")
    assert len(downloads) == 2 and all(d.auth == "" for d in downloads)
    assert q("logs", "website", "--env", "staging", "--container", "publish", "--tail", "1") == 0
    assert q.out.splitlines() == ["2026-03-01T10:01:00Z -     [publish] uploaded 12 files"]


async def test_a_running_job_is_followed_until_it_completes(gh: FakeGitHub) -> None:
    gh.runs[REPO].append(run(202, "deploy-site.yml", status="in_progress", conclusion=None))
    running = job(2101, "build", status="in_progress", conclusion=None)
    gh.jobs[202] = [running]
    gh.logs[2101] = "2026-03-01T10:00:01Z step one\n"
    provider = build(gh)
    provider.log_pause = provider.log_max_pause = 0.05
    ref = TargetRef("ci", "website", "staging", f"{REPO}:deploy-site.yml")
    seen: list[str] = []
    try:
        async for line in provider.logs(ref, follow=True):
            seen.append(line.text)
            if line.text == "step one":
                gh.logs[2101] += "2026-03-01T10:00:02Z step two\n"
            if line.text == "step two":
                gh.logs[2101] += "2026-03-01T10:00:03Z done\n"
                running.update(status="completed", conclusion="success")
                gh.runs[REPO][-1].update(status="completed", conclusion="success")
    finally:
        await provider.close()
    assert seen == ["step one", "step two", "done"]


async def test_follow_starts_from_the_last_tail_lines_then_shows_what_comes(
    gh: FakeGitHub,
) -> None:
    gh.runs[REPO].append(run(203, "deploy-site.yml", status="in_progress", conclusion=None))
    running = job(2201, "build", status="in_progress", conclusion=None)
    gh.jobs[203] = [running]
    gh.logs[2201] = "".join(f"2026-03-01T10:00:0{n}Z step {n}\n" for n in range(1, 6))
    provider = build(gh)
    provider.log_pause = provider.log_max_pause = 0.05
    ref = TargetRef("ci", "website", "staging", f"{REPO}:deploy-site.yml")
    seen: list[str] = []
    try:
        async for line in provider.logs(ref, follow=True, tail=2):
            seen.append(line.text)
            if line.text == "step 5":
                gh.logs[2201] += "2026-03-01T10:00:06Z step 6\n"
                running.update(status="completed", conclusion="success")
                gh.runs[REPO][-1].update(status="completed", conclusion="success")
    finally:
        await provider.close()
    assert seen == ["step 4", "step 5", "step 6"]  # the tail once, then only new lines


async def test_polling_slows_down_before_the_rate_limit_runs_out(gh: FakeGitHub) -> None:
    gh.remaining = 400  # of 5000, resetting in an hour
    provider = build(gh)
    try:
        await provider.snapshot()
        asked = len(gh.seen)
        await provider.snapshot()
        assert len(gh.seen) == asked  # the paced cycle answered from the last snapshot
        details = await provider.details(TargetRef("ci", "website", "ci", f"{REPO}:ci.yml"))
        (line,) = [e.message for e in details.events if e.reason == "RateLimit"]
        assert "polling slowed, next refresh in" in line
    finally:
        await provider.close()


def test_a_read_only_provider_or_a_non_member_cannot_answer(
    tmp_path: Path,
    gh: FakeGitHub,
    capsys,
    monkeypatch,  # noqa: ANN001
) -> None:
    config = write_config(tmp_path, gh, extra="readonly = true")
    q = Quorum(config, capsys, monkeypatch, "GITHUB_TOKEN")
    assert q("vote", "ci:301/production", "approve") == 3
    assert "provider ci is read-only: cannot answer approvals" in q.err
    q = Quorum(write_config(tmp_path, gh), capsys, monkeypatch, "GITHUB_TOKEN")
    monkeypatch.setenv("QUORUM_ACT_AS", "mallory")
    assert main(["vote", "ci:301/production", "approve", "--config", str(q.config)]) == 3
    assert "mallory is not in [team] members" in capsys.readouterr().err
    assert q("vote", "ci:999/production", "approve") == 2
    assert "ci:999/production is not waiting in provider ci" in q.err
    assert gh.requests("POST") == []


def test_voters_completing_the_quorum_at_once_send_one_approval(
    tmp_path: Path,
    gh: FakeGitHub,
    capsys,
    monkeypatch,  # noqa: ANN001
) -> None:
    config = write_config(tmp_path, gh, forward=True)
    config.write_text(config.read_text().replace(
        '"alice", "bob", "carol"', '"alice", "bob", "carol", "dana", "erin"'))  # fmt: skip
    q = Quorum(config, capsys, monkeypatch, "GITHUB_TOKEN")
    assert q.json("vote", "ci:301/production", "approve", who="alice")["sent"] is None
    script = (
        "import sys; from console.cli.main import main; "
        "sys.exit(main(['vote', 'ci:301/production', 'approve', '--config', sys.argv[1]]))"
    )
    voters = ["bob", "carol", "dana", "erin"]
    running = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(config)],
            env={**os.environ, "QUORUM_ACT_AS": who, "GITHUB_TOKEN": TOKENS.get(who, "t")},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for who in voters
    ]
    codes = [p.wait(timeout=120) for p in running]
    assert set(codes) <= {0, 2, 3}, [p.stderr.read() for p in running if p.stderr]
    assert len(gh.requests("POST", "/pending_deployments")) == 1


async def test_revisions_are_the_workflows_recent_successful_runs(gh: FakeGitHub) -> None:
    gh.runs[REPO] += [run(199, "deploy-site.yml", sha="1" * 40)]
    provider = build(gh)
    try:
        ref = TargetRef("ci", "website", "staging", f"{REPO}:deploy-site.yml")
        found = await provider.revisions(ref)
    finally:
        await provider.close()
    assert [(r.id, r.current) for r in found] == [("feedfac", True), ("1111111", False)]


def test_one_workflow_per_branch_serves_two_environments(
    tmp_path: Path,
    gh: FakeGitHub,
    capsys,
    monkeypatch,  # noqa: ANN001
) -> None:
    gh.runs[REPO] = [
        run(401, "deploy.yml", branch="release", sha="2" * 40),
        run(402, "deploy.yml", branch="main", sha="3" * 40, conclusion="failure"),
    ]
    config = write_config(tmp_path, gh)
    text = config.read_text().replace(
        'workflows = { "ci.yml" = "ci", "deploy-site.yml" = "staging", "production.yml" = '
        '"production" }',
        'workflows = { "deploy.yml@release" = "staging", "deploy.yml@main" = "production" }',
    )
    config.write_text(text)
    q = Quorum(config, capsys, monkeypatch, "GITHUB_TOKEN")
    rows = {r["environment"]: r for r in q.json("status")}
    assert (rows["staging"]["revision"], rows["staging"]["status"]) == ("2222222", "ready")
    assert (rows["production"]["revision"], rows["production"]["status"]) == ("3333333", "failed")
    assert {s.query.get("branch") for s in gh.requests("GET", "/deploy.yml/runs")} == {
        "release", "main",
    }  # fmt: skip
    assert q("deploy", "website", "--env", "staging", "--revision", "v9") == 0, q.err
    (post,) = gh.requests("POST")
    assert post.path.endswith("/workflows/deploy.yml/dispatches")
    assert post.body["ref"] == "release"
