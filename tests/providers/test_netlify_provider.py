"""Netlify against a loopback API from the documented shapes: the published deploy
and the newest one, publish and restore through the actions path (the production
policy applies), auto-publishing locked and unlocked as pause and resume, and what a
person sees when the API misbehaves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from console.domain.model import TargetRef
from providers.base import ProviderContext
from providers.netlify import NetlifyProvider
from tests.ci_support import (
    TOKENS,
    Quorum,
    assert_no_token,
    audit_records,
    hang_one_provider,
    team_config,
)
from tests.netlify_fake import SITE_ID, SITE_NAME, FakeNetlify, deploy


def world(server: HTTPServer) -> FakeNetlify:
    fake = FakeNetlify(server)
    fake.deploys = [
        deploy(1, "ready"),
        deploy(2, "ready", title="Add the donate page\nbody", published=True),
        deploy(3, "ready", context="deploy-preview"),
        deploy(4, "error"),
    ]
    fake.published = "66500002"
    return fake


@pytest.fixture
def nf(api: HTTPServer) -> FakeNetlify:
    return world(api)


def block(name: str, fake: FakeNetlify, extra: str = "") -> str:
    return f"""
[[providers]]
name = "{name}"
kind = "netlify"
site = "{SITE_NAME}.netlify.app"
api_url = "{fake.url}"
token_env = "NETLIFY_AUTH_TOKEN"
services = {{ "{SITE_NAME}.netlify.app" = "site" }}
{extra}
"""


@pytest.fixture
def q(tmp_path: Path, nf: FakeNetlify, capsys, monkeypatch) -> Quorum:  # noqa: ANN001
    config = team_config(tmp_path, block("netlify", nf))
    return Quorum(config, capsys, monkeypatch, "NETLIFY_AUTH_TOKEN")


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETLIFY_AUTH_TOKEN", TOKENS["alice"])


def test_status_shows_the_published_deploy_and_a_failed_newer_one(
    q: Quorum, nf: FakeNetlify
) -> None:
    (row,) = q.json("status")
    assert (row["service"], row["environment"]) == ("site", "production")
    assert (row["status"], row["revision"]) == ("failed", "66500002")
    assert row["updated_at"] == "2026-03-01T10:02:45Z"  # the publish time
    assert q("describe", "site", "--env", "production") == 0, q.err
    assert 'published 66500002 ready · main@02beefbe "Add the donate page"' in q.out
    assert "newest 66500004 error · main@04beefbe" in q.out
    assert "non-zero exit code: 2" in q.out
    assert "pr-3" not in q.out  # a deploy preview is not a production deploy
    assert all(s.auth == TOKENS["alice"] for s in nf.seen)
    assert_no_token(q.out, q.err)


async def test_revisions_are_ready_production_deploys_published_marked(nf: FakeNetlify) -> None:
    provider = NetlifyProvider(
        "netlify",
        {"site": SITE_ID, "api_url": nf.url, "token_env": "NETLIFY_AUTH_TOKEN"},
        ProviderContext(data_dir=Path(".")),
    )
    try:
        found = await provider.revisions(TargetRef("netlify", SITE_ID, "production", SITE_ID))
    finally:
        await provider.close()
    assert [(r.id, r.current) for r in found] == [("66500002", True), ("66500001", False)]


def test_rollback_restores_the_ready_deploy_before_the_published_one(
    q: Quorum, nf: FakeNetlify, isolated_quorum: Path
) -> None:
    assert q("rollback", "site", "--env", "production") == 0, q.err
    (post,) = nf.requests("POST")
    assert post.path == f"/api/v1/sites/{SITE_ID}/deploys/66500001/restore"
    assert post.auth == TOKENS["alice"] and nf.published == "66500001"
    last = audit_records(isolated_quorum)[-1]
    assert (last["action"], last["outcome"]) == ("rollback", "finished")
    assert "published 66500001 ready" in str(last["comment"])
    assert_no_token(q.out, q.err, audit_records(isolated_quorum))


def test_deploy_publishes_a_ready_deploy_by_commit(q: Quorum, nf: FakeNetlify) -> None:
    nf.deploys.append(deploy(5, "ready"))
    assert q("deploy", "site", "--env", "production", "--revision", "05beefbe") == 0, q.err
    (post,) = nf.requests("POST")
    assert post.path == f"/api/v1/sites/{SITE_ID}/deploys/66500005/restore"


def test_a_failed_deploy_is_refused_before_anything_is_sent(q: Quorum, nf: FakeNetlify) -> None:
    assert q("deploy", "site", "--env", "production", "--revision", "66500004") != 0
    assert "66500004 is error, not ready" in q.out + q.err
    assert nf.requests("POST") == []


def test_production_policy_turns_a_publish_into_a_proposal(
    tmp_path: Path,
    nf: FakeNetlify,
    capsys,
    monkeypatch,  # noqa: ANN001
) -> None:
    config = team_config(tmp_path, block("netlify", nf), approvals=2)
    q = Quorum(config, capsys, monkeypatch, "NETLIFY_AUTH_TOKEN")
    assert q("deploy", "site", "--env", "production", "--revision", "66500001") == 3, q.err
    assert nf.requests("POST") == []


def test_pause_locks_auto_publishing_and_resume_unlocks_it(
    tmp_path: Path,
    nf: FakeNetlify,
    capsys,
    monkeypatch,  # noqa: ANN001
    isolated_quorum: Path,
) -> None:
    config = team_config(tmp_path, block("netlify", nf), approvals=1)
    q = Quorum(config, capsys, monkeypatch, "NETLIFY_AUTH_TOKEN")
    assert q("pause", "site", "--env", "production") == 0, q.err  # the brake: no vote
    (post,) = nf.requests("POST")
    assert post.path == "/api/v1/deploys/66500002/lock"
    (row,) = q.json("status")
    assert row["status"] == "paused"
    assert q("describe", "site", "--env", "production") == 0
    assert "auto-publishing locked" in q.out
    assert q("resume", "site", "--env", "production") == 3  # resuming follows the policy
    assert len(nf.requests("POST")) == 1
    config.write_text(config.read_text().replace("min_approvals = 1", "min_approvals = 0"))
    assert q("resume", "site", "--env", "production") == 0, q.err
    assert nf.requests("POST")[-1].path == "/api/v1/deploys/66500002/unlock"
    actions = [(r["action"], r["outcome"]) for r in audit_records(isolated_quorum)]
    assert ("pause", "finished") in actions and ("resume", "finished") in actions


def test_logs_say_netlify_offers_none(q: Quorum) -> None:
    assert q("logs", "site", "--env", "production") != 0
    assert "provider netlify (netlify) has no logs" in q.err


def test_backend_text_is_shown_inert(q: Quorum, nf: FakeNetlify) -> None:
    nf.deploys.append(deploy(6, "building", title="[red]fake[/red]\x1b]52;c;cGF5\x07x"))
    assert q("describe", "site", "--env", "production") == 0, q.err
    assert "\x1b" not in q.out and "\x07" not in q.out
    assert '"[red]fake[/red]␛]52;c;cGF5␇x"' in q.out


# --- a misbehaving API ----------------------------------------------------------------


@pytest.fixture
def two(tmp_path: Path, nf: FakeNetlify, api2: HTTPServer, capsys, monkeypatch) -> Quorum:  # noqa: ANN001
    healthy = world(api2)
    body = block("broken", nf, "retries = 2\nread_timeout = 0.5") + block(
        "healthy", healthy
    ).replace('"site"', '"site2"')
    return Quorum(team_config(tmp_path, body), capsys, monkeypatch, "NETLIFY_AUTH_TOKEN")


def check_status(q: Quorum, expected: str) -> None:
    assert q("status", "--json") == 1
    assert {r["provider"] for r in json.loads(q.out)} == {"healthy"}
    (line,) = [e for e in q.err.splitlines() if "provider broken" in e]
    assert expected in line, line
    assert_no_token(q.out, q.err)


def test_a_refused_token_is_one_line_naming_its_source(two: Quorum, nf: FakeNetlify) -> None:
    def echo(request: Request) -> Response:
        sent = request.headers.get("Authorization", "")
        return Response(json.dumps({"code": 401, "message": f"Access Denied {sent}"}), 401,
                        content_type="application/json")  # fmt: skip

    nf.fault = echo
    check_status(two, "auth: /api/v1/sites/collective-site.netlify.app: 401 the token from")
    assert "Access Denied Bearer [token]" in two.err


def test_an_unknown_site_is_not_found(
    tmp_path: Path,
    nf: FakeNetlify,
    capsys,
    monkeypatch,  # noqa: ANN001
) -> None:
    config = team_config(tmp_path, block("netlify", nf).replace("collective-site", "other"))
    q = Quorum(config, capsys, monkeypatch, "NETLIFY_AUTH_TOKEN")
    assert q("status", "--json") == 1
    assert "not found: /api/v1/sites/other.netlify.app: 404: Not Found" in q.err


def test_a_server_error_is_retried_a_bounded_number_of_times(two: Quorum, nf: FakeNetlify) -> None:
    nf.fault = lambda request: Response("<html>oops</html>", 502)
    check_status(two, "bad response: /api/v1/sites/collective-site.netlify.app: 502")
    assert len(nf.seen) == 3  # one try and `retries = 2` more


def test_429_waits_for_retry_after_then_answers(two: Quorum, nf: FakeNetlify) -> None:
    calls = {"n": 0}

    def busy_once(request: Request) -> Response | None:
        calls["n"] += 1
        return Response("{}", 429, headers={"Retry-After": "0"}) if calls["n"] == 1 else None

    nf.fault = busy_once
    assert two("status", "--json") == 0, two.err
    assert {r["provider"] for r in json.loads(two.out)} == {"broken", "healthy"}
    assert [s.status for s in nf.seen] == [429, 200, 200]


async def test_a_hanging_server_times_out_while_the_others_keep_updating(
    two: Quorum, nf: FakeNetlify
) -> None:
    error, healthy = await hang_one_provider(two.config, nf)
    assert error.startswith("timeout: 127.0.0.1 gave no answer in time"), error
    assert healthy is None
