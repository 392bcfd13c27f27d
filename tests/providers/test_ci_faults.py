"""What a person sees when a CI API misbehaves: a bad token, a spent rate limit, a
server error, a body that is not JSON, a server that never answers. One clear line,
the other providers keep updating, no request storm, and the token in no output,
audit record or notification."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from console.domain.model import TargetRef
from providers.base import AuthError, ProviderContext
from providers.github import GitHubProvider
from tests.ci_support import (
    TOKENS,
    Quorum,
    assert_no_token,
    audit_records,
    hang_one_provider,
    loopback_server,
)
from tests.github_fake import FakeGitHub, pending, run

REPO = "collective/website"


@pytest.fixture
def download() -> Iterator[HTTPServer]:
    yield from loopback_server()


@pytest.fixture
def hook() -> Iterator[HTTPServer]:
    yield from loopback_server()


def fake(server: HTTPServer, download: HTTPServer) -> FakeGitHub:
    gh = FakeGitHub(server, download)
    gh.runs[REPO] = [run(11, "ci.yml"), run(12, "production.yml", status="waiting",
                                              conclusion=None)]  # fmt: skip
    gh.pending[12] = [pending(55, "production")]
    return gh


@pytest.fixture
def broken(api: HTTPServer, download: HTTPServer) -> FakeGitHub:
    return fake(api, download)


@pytest.fixture
def healthy(api2: HTTPServer, download: HTTPServer) -> FakeGitHub:
    return fake(api2, download)


def block(name: str, gh: FakeGitHub, extra: str = "") -> str:
    return f"""
[[providers]]
name = "{name}"
kind = "github"
repo = "{REPO}"
api_url = "{gh.url}"
token_env = "GITHUB_TOKEN"
workflows = {{ "ci.yml" = "ci", "production.yml" = "production" }}
retries = 2
max_retry_wait = 5
{extra}
"""


@pytest.fixture
def q(tmp_path: Path, broken: FakeGitHub, healthy: FakeGitHub, hook: HTTPServer,
      capsys, monkeypatch) -> Quorum:  # noqa: ANN001 # fmt: skip
    config = tmp_path / "quorum.toml"
    config.write_text(
        '[team]\nmembers = ["alice", "bob"]\n[policy.production]\nmin_approvals = 1\n'
        '[[notify]]\nkind = "webhook"\nurl_env = "HOOK_URL"\n'
        + block("broken", broken, "read_timeout = 0.5")
        + block("healthy", healthy)
    )
    hook.expect_request("/hook").respond_with_data("ok")
    monkeypatch.setenv("HOOK_URL", hook.url_for("/hook"))
    return Quorum(config, capsys, monkeypatch, "GITHUB_TOKEN")


def echo_token(request: Request) -> Response:
    """A backend that repeats the credential it was sent in its error body."""
    sent = request.headers.get("Authorization", "")
    return Response(json.dumps({"message": f"Bad credentials: {sent}"}), 401,
                    content_type="application/json")  # fmt: skip


def check_status(q: Quorum, expected: str) -> None:
    assert q("status", "--json") == 1
    rows = json.loads(q.out)
    assert {r["provider"] for r in rows} == {"healthy"}  # the other provider still answers
    (line,) = [e for e in q.err.splitlines() if "provider broken" in e]
    assert expected in line, line
    assert_no_token(q.out, q.err)


def test_a_refused_token_is_one_line_naming_its_source(
    q: Quorum, broken: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore log every request at debug level
    broken.fault = echo_token
    check_status(q, "failing: auth: /repos/collective/website/actions/workflows/")
    assert "401 the token from $GITHUB_TOKEN was refused: Bad credentials: Bearer [token]" in q.err
    assert "HTTP Request: GET" in caplog.text
    assert_no_token(caplog.text)


def test_a_spent_rate_limit_is_not_hammered(q: Quorum, broken: FakeGitHub) -> None:
    reset = str(int(time.time()) + 1800)

    def spent(request: Request) -> Response:
        return Response(json.dumps({"message": "API rate limit exceeded"}), 403,
                        headers={"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0",
                                 "X-RateLimit-Reset": reset})  # fmt: skip

    broken.fault = spent
    check_status(q, "rate limited:")
    assert "403 rate limit reached (rate limit: 0 of 5000 left, resets in" in q.err
    assert len(broken.seen) == 2  # one listing per workflow, none repeated


def test_429_backs_off_then_answers(q: Quorum, broken: FakeGitHub) -> None:
    calls = {"n": 0}

    def busy_once(request: Request) -> Response | None:
        calls["n"] += 1
        if calls["n"] <= 2:
            return Response("{}", 429, headers={"Retry-After": "0"})
        return None

    broken.fault = busy_once
    assert q("status", "--json") == 0, q.err
    assert {r["provider"] for r in json.loads(q.out)} == {"broken", "healthy"}
    assert len(broken.seen) == 4  # two refused, then each listing once


def test_a_server_error_is_retried_a_bounded_number_of_times(q: Quorum, broken: FakeGitHub) -> None:
    broken.fault = lambda request: Response("<html>oops</html>", 500)
    check_status(q, "failing: bad response: /repos/collective/website/actions/workflows/")
    assert len(broken.seen) == 2 * 3  # each listing: one try and `retries = 2` more


def test_a_body_that_is_not_json(q: Quorum, broken: FakeGitHub) -> None:
    broken.fault = lambda request: Response("{truncated", 200, content_type="application/json")
    check_status(q, "with a body that is not JSON")


async def test_a_hanging_server_times_out_while_the_others_keep_updating(
    q: Quorum, broken: FakeGitHub, monkeypatch
) -> None:  # noqa: ANN001
    monkeypatch.setenv("GITHUB_TOKEN", TOKENS["alice"])
    error, healthy = await hang_one_provider(q.config, broken)
    assert error.startswith("timeout: 127.0.0.1 gave no answer in time"), error
    assert healthy is None
    assert_no_token(error)


def test_a_vote_the_provider_refuses_is_audited_and_notified_without_the_token(
    q: Quorum, broken: FakeGitHub, hook: HTTPServer, isolated_quorum: Path
) -> None:
    def refuse_posts(request: Request) -> Response | None:
        return echo_token(request) if request.method == "POST" else None

    broken.fault = refuse_posts
    assert q("vote", "broken:12/production", "approve", who="bob") == 1
    assert "approved NOT sent: auth: " in q.err and "[token]" in q.err
    record = audit_records(isolated_quorum)[-1]
    assert (record["action"], record["outcome"], record["who"]) == (
        "provider-vote", "failed", "bob",
    )  # fmt: skip
    (notice, _), *_ = hook.log
    assert "broken:12/production: approved failed" in notice.get_data(as_text=True)
    assert_no_token(q.out, q.err, audit_records(isolated_quorum),
                    [r.get_data(as_text=True) for r, _ in hook.log])  # fmt: skip


async def test_a_token_rotated_behind_the_console_is_read_again_after_a_401(
    broken: FakeGitHub, tmp_path: Path
) -> None:
    """`token_command` is asked again once the server refuses the token it gave; the
    request that met the 401 goes through with the new token, and the old one never
    appears in a message."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKENS["alice"])
    accepted = {"token": TOKENS["alice"]}

    def only_the_current_token(request: Request) -> Response | None:
        if request.headers.get("Authorization", "") == f"Bearer {accepted['token']}":
            return None
        return echo_token(request)

    broken.fault = only_the_current_token
    broken.runs["collective/website"] = [run(1, "ci.yml")]
    settings = {
        "repo": "collective/website",
        "api_url": broken.url,
        "token_command": ["cat", str(token_file)],
        "workflows": {"ci.yml": "ci"},
    }
    provider = GitHubProvider("ci", settings, ProviderContext(data_dir=tmp_path))
    ref = TargetRef("ci", "website", "ci", "collective/website:ci.yml")
    try:
        assert (await provider.snapshot()).targets
        accepted["token"] = TOKENS["bob"]  # rotated at the backend and in the command
        token_file.write_text(TOKENS["bob"])
        assert await provider.revisions(ref) is not None  # answered after one renewal
        refused = [s for s in broken.seen if s.auth == f"Bearer {TOKENS['alice']}"]
        assert refused and refused[-1].path.endswith("/runs")
        token_file.write_text(TOKENS["carol"])  # the command now gives a token the server refuses
        accepted["token"] = TOKENS["alice"]
        with pytest.raises(AuthError) as refused_again:
            await provider.revisions(ref)
        assert "401 the token from `cat" in str(refused_again.value)
        assert_no_token(str(refused_again.value))
    finally:
        await provider.close()
