"""GitLab CI against a loopback API from the documented shapes: pipelines with their
failing job and stage, deployments and their approvals, votes sent with the voter's
token, manual jobs played and earlier deployments retried through the actions path."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from console.domain.model import TargetRef, utcnow
from providers.base import ProviderContext
from providers.gitlab import GitLabProvider
from tests.ci_support import TOKENS, Quorum, assert_no_token, audit_records
from tests.gitlab_fake import PROJECT, FakeGitLab, deployment, job, pipeline

SHA = "a1b2c3d4e5f6a7b8c9d0"


@pytest.fixture
def gl(api: HTTPServer) -> FakeGitLab:
    fake = FakeGitLab(api)
    fake.pipelines = [pipeline(500, "success", sha="0" * 40), pipeline(501, "failed", sha=SHA)]
    fake.jobs[501] = [
        job(9001, "build", "build", "success", 501),
        job(9002, "test", "test", "failed", 501),
        job(9003, "deploy-production", "deploy", "manual", 501),
    ]
    fake.jobs[500] = [job(8001, "deploy-production", "deploy", "success", 500)]
    fake.traces[9001] = "\x1b[32mbuilding\x1b[0m\nok\n"
    fake.traces[9002] = "collected 12 items\nFAILED test_sync\n"
    fake.deployments = [
        deployment(40, "production", "success", {**job(8001, "deploy-production", "deploy",
                                                        "success", 500), "sha": "0" * 40}),
        deployment(41, "production", "success", {**job(8101, "deploy-production", "deploy",
                                                        "success", 500)}),
        deployment(57, "production", "blocked", {**job(9003, "deploy-production", "deploy",
                                                        "manual", 501)},
                   pending_approval_count=2,
                   approval_summary={"rules": [{"user_type": None, "group_name": "ops",
                                                "required_approvals": 2,
                                                "deployment_approvals": []}]}),
    ]  # fmt: skip
    return fake


def write_config(tmp_path: Path, gl: FakeGitLab, *, forward: bool = False) -> Path:
    config = tmp_path / "quorum.toml"
    config.write_text(
        f"""
[team]
members = ["alice", "bob", "carol"]

[policy.production]
min_approvals = 2
forward_after_quorum = {"true" if forward else "false"}

[policy.staging]
min_approvals = 0

[[providers]]
name = "gitlab"
kind = "gitlab"
project = "{PROJECT}"
api_url = "{gl.url}"
token_env = "GITLAB_TOKEN"
ref = "main"
environments = {{ production = "production" }}
deploy_jobs = {{ production = "deploy-production" }}
"""
    )
    return config


@pytest.fixture
def q(tmp_path: Path, gl: FakeGitLab, capsys, monkeypatch) -> Quorum:  # noqa: ANN001
    return Quorum(write_config(tmp_path, gl), capsys, monkeypatch, "GITLAB_TOKEN")


def test_status_shows_the_pipeline_and_the_environments_deployment(q: Quorum) -> None:
    rows = {r["environment"]: r for r in q.json("status")}
    assert set(rows) == {"ci", "production"}
    assert (rows["ci"]["status"], rows["ci"]["revision"]) == ("failed", SHA[:8])
    assert rows["production"]["status"] == "paused"  # blocked: waiting for approval
    assert q("describe", "website", "--env", "ci") == 0
    assert "failed at job test (stage test)" in q.out


def test_blocked_deployments_are_provider_approvals(q: Quorum) -> None:
    (item,) = q.json("approvals")["provider_approvals"]
    assert item["id"] == "gitlab:57"
    assert item["environment"] == "production" and item["requested_by"] == "dana"
    assert "2 pending" in item["detail"] and "ops 0/2" in item["detail"]


def test_a_vote_posts_the_approval_with_the_voters_token(
    q: Quorum, gl: FakeGitLab, isolated_quorum: Path
) -> None:
    assert q("vote", "gitlab:57", "approve", "--comment", "checked", who="bob") == 0, q.err
    (post,) = gl.requests("POST")
    assert post.path == "/api/v4/projects/collective%2Fwebsite/deployments/57/approval"
    assert post.body == {"status": "approved", "comment": "checked"}
    assert post.auth == TOKENS["bob"]
    last = audit_records(isolated_quorum)[-1]
    assert (last["action"], last["who"], last["outcome"]) == ("provider-vote", "bob", "finished")
    assert "GitLab 201: approved deployment 57" in str(last["comment"])
    assert_no_token(q.out, q.err, audit_records(isolated_quorum))


def test_a_rejection_posts_rejected(q: Quorum, gl: FakeGitLab) -> None:
    assert q("vote", "gitlab:57", "reject", who="carol") == 0, q.err
    (post,) = gl.requests("POST")
    assert post.body == {"status": "rejected"} and post.auth == TOKENS["carol"]


def test_forward_after_quorum_sends_one_approval_at_the_quorum(
    tmp_path: Path,
    gl: FakeGitLab,
    capsys,
    monkeypatch,  # noqa: ANN001
) -> None:
    q = Quorum(write_config(tmp_path, gl, forward=True), capsys, monkeypatch, "GITLAB_TOKEN")
    assert q.json("vote", "gitlab:57", "approve", who="carol")["sent"] is None
    assert gl.requests("POST") == []
    listed = q.json("approvals")["provider_approvals"][0]["quorum"]
    assert (listed["approvals"], listed["needed"]) == (["carol"], 1)
    assert q.json("vote", "gitlab:57", "approve", who="alice")["sent"] == "approved"
    (post,) = gl.requests("POST")
    assert post.body["status"] == "approved" and post.auth == TOKENS["alice"]
    assert post.body["comment"].startswith("Approved by consensus in Quorum (carol, alice;")


def test_deploy_plays_the_manual_job_of_the_revisions_pipeline(
    tmp_path: Path,
    gl: FakeGitLab,
    capsys,
    monkeypatch,
    isolated_quorum,  # noqa: ANN001
) -> None:
    config = write_config(tmp_path, gl)
    config.write_text(config.read_text().replace("min_approvals = 2", "min_approvals = 0"))
    q = Quorum(config, capsys, monkeypatch, "GITLAB_TOKEN")
    assert q("deploy", "website", "--env", "production", "--revision", SHA[:8]) == 0, q.err
    (post,) = gl.requests("POST")
    assert post.path == "/api/v4/projects/collective%2Fwebsite/jobs/9003/play"
    last = audit_records(isolated_quorum)[-1]
    assert (last["action"], last["outcome"]) == ("deploy", "finished")
    assert "played deploy-production (job 9003) of pipeline 501" in str(last["comment"])


def test_rollback_retries_the_previous_successful_deployments_job(
    q: Quorum, gl: FakeGitLab, isolated_quorum: Path
) -> None:
    gl.deployments = [d for d in gl.deployments if d["id"] != 57]
    assert q("rollback", "website", "--env", "production") == 0, q.err
    (post,) = gl.requests("POST")
    assert post.path == "/api/v4/projects/collective%2Fwebsite/jobs/8001/retry"
    assert "retried deploy-production of deployment 40" in str(
        audit_records(isolated_quorum)[-1]["comment"]
    )


def test_job_traces_in_quorum_logs(q: Quorum) -> None:
    assert q("logs", "website", "--env", "ci", "--container", "test") == 0, q.err
    assert [line.split(" ", 2)[2].strip() for line in q.out.splitlines()] == [
        "[test] collected 12 items", "[test] FAILED test_sync",
    ]  # fmt: skip
    assert q("logs", "website", "--env", "ci", "--container", "build") == 0
    assert "\x1b" not in q.out and "building" in q.out


async def test_a_running_job_trace_is_followed(gl: FakeGitLab) -> None:
    running = job(9100, "sync", "sync", "running", 502)
    gl.pipelines.append(pipeline(502, "running"))
    gl.jobs[502] = [running]
    gl.traces[9100] = "start\n"
    provider = GitLabProvider(
        "gitlab",
        {"project": PROJECT, "api_url": gl.url, "token_env": "GITLAB_TOKEN", "ref": "main"},
        ProviderContext(data_dir=Path(".")),
    )
    provider.log_pause = provider.log_max_pause = 0.05
    seen = []
    try:
        ref = TargetRef("gitlab", "website", "ci", f"{PROJECT}:pipeline")
        async for line in provider.logs(ref, follow=True):
            seen.append(line.text)
            if line.text == "start":
                gl.traces[9100] += "synced 40 pages\n"
                running["status"] = "success"
    finally:
        await provider.close()
    assert seen == ["start", "synced 40 pages"]


async def test_a_followed_trace_starts_with_the_since_window_then_new_lines(
    gl: FakeGitLab,
) -> None:
    running = job(9200, "sync", "sync", "running", 503)
    gl.pipelines.append(pipeline(503, "running"))
    gl.jobs[503] = [running]
    recent = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    gl.traces[9200] = f"2020-01-01T00:00:00Z long ago\n{recent} recent\n"
    provider = GitLabProvider(
        "gitlab",
        {"project": PROJECT, "api_url": gl.url, "token_env": "GITLAB_TOKEN", "ref": "main"},
        ProviderContext(data_dir=Path(".")),
    )
    provider.log_pause = provider.log_max_pause = 0.05
    seen = []
    try:
        ref = TargetRef("gitlab", "website", "ci", f"{PROJECT}:pipeline")
        async for line in provider.logs(ref, follow=True, since=timedelta(hours=1)):
            seen.append(line.text)
            if line.text == "recent":
                gl.traces[9200] += "more\n"
                running["status"] = "success"
    finally:
        await provider.close()
    assert seen == ["recent", "more"]


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITLAB_TOKEN", TOKENS["alice"])


async def test_revisions_are_the_environments_successful_deployments(gl: FakeGitLab) -> None:
    provider = GitLabProvider(
        "gitlab",
        {"project": PROJECT, "api_url": gl.url, "token_env": "GITLAB_TOKEN",
         "environments": {"production": "production"}},
        ProviderContext(data_dir=Path(".")),
    )  # fmt: skip
    try:
        ref = TargetRef("gitlab", "website", "production", f"{PROJECT}:environment/production")
        found = await provider.revisions(ref)
    finally:
        await provider.close()
    assert [(r.id, r.current) for r in found] == [("dddddddd", False), ("00000000", False)]
    assert found[0].description == "deployment 41 of main by dana"


PAGES = {
    "url": "https://collective.gitlab.io/website",
    "is_unique_domain_enabled": False,
    "force_https": True,
    "deployments": [
        {"created_at": "2026-03-02T08:15:00.000Z", "url": "https://collective.gitlab.io/website/",
         "path_prefix": "", "root_directory": None},
        {"created_at": "2026-03-01T09:00:00.000Z",
         "url": "https://collective.gitlab.io/website/beta/", "path_prefix": "beta",
         "root_directory": None},
    ],
    "primary_domain": None,
}  # fmt: skip


@pytest.fixture
def qp(tmp_path: Path, gl: FakeGitLab, capsys, monkeypatch) -> Quorum:  # noqa: ANN001
    config = write_config(tmp_path, gl)
    config.write_text(config.read_text() + 'pages = "pages"\n')
    return Quorum(config, capsys, monkeypatch, "GITLAB_TOKEN")


def test_pages_is_a_read_only_row_with_its_last_deploy(qp: Quorum, gl: FakeGitLab) -> None:
    gl.pages = PAGES
    rows = {r["environment"]: r for r in qp.json("status")}
    assert set(rows) == {"ci", "production", "pages"}
    assert rows["pages"]["status"] == "ready"
    assert rows["pages"]["updated_at"] == "2026-03-02T08:15:00Z"
    assert qp("describe", "website", "--env", "pages") == 0, qp.err
    assert "Pages at https://collective.gitlab.io/website" in qp.out
    assert "last deploy 2026-03-02 08:15 UTC · also under beta" in qp.out
    assert qp("rollback", "website", "--env", "pages") != 0
    assert "the GitLab Pages row is read-only" in qp.out + qp.err
    assert gl.requests("POST") == []


def test_pages_never_deployed_is_said_without_failing_the_provider(
    qp: Quorum, gl: FakeGitLab
) -> None:
    rows = {r["environment"]: r for r in qp.json("status")}
    assert rows["pages"]["status"] == "unknown" and rows["production"]["status"] == "paused"
    assert qp("describe", "website", "--env", "pages") == 0, qp.err
    assert "GitLab Pages not deployed" in qp.out


def test_pages_cannot_share_an_environment_with_a_deployment() -> None:
    problems = GitLabProvider.check_settings(
        {"project": PROJECT, "token_env": "GITLAB_TOKEN", "pages": "production",
         "environments": {"production": "production"}}
    )  # fmt: skip
    assert problems == [("pages", "'production' already shows a pipeline or a deployment")]
