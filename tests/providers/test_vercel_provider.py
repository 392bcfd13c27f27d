"""Vercel against a loopback API from the documented shapes: production and preview
rows with state, creator, commit and age, the live deployment after a rollback,
promote and roll back through the actions path (the production policy applies),
build logs, and what a person sees when the API misbehaves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from console.domain.model import TargetRef
from providers.base import ProviderContext
from providers.vercel import VercelProvider
from tests.ci_support import (
    TOKENS,
    Quorum,
    assert_no_token,
    audit_records,
    hang_one_provider,
    team_config,
)
from tests.vercel_fake import PROJECT_ID, PROJECT_NAME, TEAM, FakeVercel, deployment, event


def world(server: HTTPServer) -> FakeVercel:
    fake = FakeVercel(server)
    fake.deployments = [
        deployment(1, "READY"),
        deployment(2, "READY", creator="erin", message="Add the donate page\n\nlong body"),
        deployment(3, "ERROR"),
        deployment(4, "READY", target=None, message="Try a new header"),
    ]
    fake.production = "dpl_2"
    fake.events["dpl_3"] = [event(1, "Cloning github.com/collective/site"),
                            event(2, "Running \"npm run build\""),
                            event(3, "Error: Cannot find module 'next'", "stderr")]  # fmt: skip
    return fake


@pytest.fixture
def vc(api: HTTPServer) -> FakeVercel:
    return world(api)


def block(name: str, fake: FakeVercel, extra: str = "") -> str:
    return f"""
[[providers]]
name = "{name}"
kind = "vercel"
project = "{PROJECT_NAME}"
team = "{TEAM}"
api_url = "{fake.url}"
token_env = "VERCEL_TOKEN"
services = {{ "{PROJECT_NAME}" = "site" }}
{extra}
"""


@pytest.fixture
def q(tmp_path: Path, vc: FakeVercel, capsys, monkeypatch) -> Quorum:  # noqa: ANN001
    return Quorum(team_config(tmp_path, block("vercel", vc)), capsys, monkeypatch,
                  "VERCEL_TOKEN")  # fmt: skip


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERCEL_TOKEN", TOKENS["alice"])


def provider(fake: FakeVercel) -> VercelProvider:
    return VercelProvider(
        "vercel",
        {"project": PROJECT_NAME, "team": TEAM, "api_url": fake.url, "token_env": "VERCEL_TOKEN"},
        ProviderContext(data_dir=Path(".")),
    )


PRODUCTION = TargetRef("vercel", "site", "production", f"{PROJECT_NAME}:production")


def test_status_shows_production_live_and_newest_and_the_preview(q: Quorum, vc: FakeVercel) -> None:
    rows = {r["environment"]: r for r in q.json("status")}
    assert set(rows) == {"production", "preview"}
    # the newest production build failed: the row says so, and names what still serves
    assert (rows["production"]["status"], rows["production"]["revision"]) == ("failed", "dpl_2")
    assert (rows["preview"]["status"], rows["preview"]["revision"]) == ("ready", "dpl_4")
    assert rows["preview"]["updated_at"].startswith("2026-03-01T10:")
    assert all(s.auth == TOKENS["alice"] and s.query["teamId"] == TEAM for s in vc.seen)
    assert len(vc.requests("GET", "/v9/projects/")) == 1  # one read for both targets
    assert q("describe", "site", "--env", "production") == 0, q.err
    assert 'live dpl_2 READY · by erin · 02c0ffee "Add the donate page"' in q.out
    assert "newest dpl_3 ERROR" in q.out
    assert q("describe", "site", "--env", "preview") == 0, q.err
    assert 'dpl_4 READY · by dana · 04c0ffee "Try a new header"' in q.out
    assert_no_token(q.out, q.err)


async def test_a_rolled_back_production_says_the_newest_is_not_promoted(vc: FakeVercel) -> None:
    vc.deployments[2]["state"] = vc.deployments[2]["readyState"] = "READY"
    p = provider(vc)
    try:
        (prod,) = [t for t in (await p.snapshot()).targets if t.ref.environment == "production"]
    finally:
        await p.close()
    assert (prod.status.value, prod.revision) == ("ready", "dpl_2")
    assert "newest dpl_3 READY" in prod.message and "not promoted (rolled back" in prod.message


def test_describe_lists_recent_deployments_with_the_live_one(q: Quorum) -> None:
    assert q("describe", "site", "--env", "production") == 0, q.err
    assert "dpl_3 ERROR" in q.out and "dpl_2 READY" in q.out and "· live" in q.out


async def test_revisions_are_ready_production_deployments_live_marked(vc: FakeVercel) -> None:
    p = provider(vc)
    try:
        found = await p.revisions(PRODUCTION)
    finally:
        await p.close()
    assert [(r.id, r.current) for r in found] == [("dpl_2", True), ("dpl_1", False)]


def test_deploy_promotes_a_ready_deployment_by_commit(
    q: Quorum, vc: FakeVercel, isolated_quorum: Path
) -> None:
    vc.deployments.append(deployment(5, "READY", sha="5eed" * 10))
    assert q("deploy", "site", "--env", "production", "--revision", "5eed5eed") == 0, q.err
    (post,) = vc.requests("POST")
    assert post.path == f"/v10/projects/{PROJECT_ID}/promote/dpl_5"
    assert post.query["teamId"] == TEAM and post.auth == TOKENS["alice"]
    assert vc.production == "dpl_5"
    last = audit_records(isolated_quorum)[-1]
    assert (last["action"], last["outcome"]) == ("deploy", "finished")
    assert "promoted dpl_5 READY" in str(last["comment"])
    assert_no_token(q.out, q.err, audit_records(isolated_quorum))


def test_a_deploy_of_a_failed_build_is_refused_before_anything_is_sent(
    q: Quorum, vc: FakeVercel
) -> None:
    assert q("deploy", "site", "--env", "production", "--revision", "dpl_3") != 0
    assert "dpl_3 is ERROR, not READY" in q.out + q.err
    assert vc.requests("POST") == []


def test_production_policy_turns_a_promote_into_a_proposal(
    tmp_path: Path,
    vc: FakeVercel,
    capsys,
    monkeypatch,  # noqa: ANN001
) -> None:
    q = Quorum(team_config(tmp_path, block("vercel", vc), approvals=2), capsys, monkeypatch,
               "VERCEL_TOKEN")  # fmt: skip
    assert q("deploy", "site", "--env", "production", "--revision", "dpl_1") == 3, q.err
    assert "proposal" in (q.out + q.err).lower()
    assert vc.requests("POST") == []


def test_rollback_returns_to_the_ready_deployment_before_the_live_one(
    q: Quorum, vc: FakeVercel, isolated_quorum: Path
) -> None:
    assert q("rollback", "site", "--env", "production") == 0, q.err
    (post,) = vc.requests("POST")
    assert post.path == f"/v1/projects/{PROJECT_ID}/rollback/dpl_1"
    assert post.query["description"] == "Rolled back from Quorum"
    assert vc.production == "dpl_1"
    last = audit_records(isolated_quorum)[-1]
    assert (last["action"], last["outcome"]) == ("rollback", "finished")
    assert "rolled production back to dpl_1 READY" in str(last["comment"])


def test_a_preview_is_not_rolled_back(q: Quorum, vc: FakeVercel) -> None:
    assert q("rollback", "site", "--env", "preview") != 0
    assert "only production is rolled back" in q.out + q.err
    assert vc.requests("POST") == []


def test_build_logs_of_the_newest_deployment(q: Quorum) -> None:
    assert q("logs", "site", "--env", "production") == 0, q.err
    texts = [line.split("] ", 1)[1] for line in q.out.splitlines()]
    assert texts == ["Cloning github.com/collective/site", 'Running "npm run build"',
                     "Error: Cannot find module 'next'"]  # fmt: skip
    assert q("logs", "site", "--env", "production", "--tail", "1") == 0
    assert len(q.out.splitlines()) == 1 and "Cannot find module" in q.out


async def test_a_stderr_line_has_the_error_level(vc: FakeVercel) -> None:
    p = provider(vc)
    try:
        lines = [line async for line in p.logs(PRODUCTION)]
    finally:
        await p.close()
    assert [(line.level, line.text) for line in lines] == [
        ("", "Cloning github.com/collective/site"),
        ("", 'Running "npm run build"'),
        ("error", "Error: Cannot find module 'next'"),
    ]
    assert lines[0].ts.isoformat() == "2026-03-01T10:13:21+00:00"  # the event's own time


async def test_a_building_deployments_log_is_followed(vc: FakeVercel) -> None:
    building = deployment(6, "BUILDING")
    vc.deployments.append(building)
    vc.events["dpl_6"] = [event(1, "Installing")]
    p = provider(vc)
    p.log_pause = p.log_max_pause = 0.05
    seen = []
    try:
        async for line in p.logs(PRODUCTION, follow=True):
            seen.append(line.text)
            if line.text == "Installing":
                vc.events["dpl_6"].append(event(2, "Build completed"))
                building["state"] = building["readyState"] = "READY"
    finally:
        await p.close()
    assert seen == ["Installing", "Build completed"]


def test_backend_text_is_shown_inert(q: Quorum, vc: FakeVercel) -> None:
    vc.deployments.append(deployment(7, "BUILDING", creator="[bold]mallory[/bold]",
                                     message="\x1b]0;pwned\x07\x1b[2Jfix"))  # fmt: skip
    assert q("describe", "site", "--env", "production") == 0, q.err
    assert "\x1b" not in q.out and "\x07" not in q.out
    assert "␛]0;pwned␇␛[2Jfix" in q.out and "by [bold]mallory[/bold]" in q.out


# --- a misbehaving API ----------------------------------------------------------------


@pytest.fixture
def two(tmp_path: Path, vc: FakeVercel, api2: HTTPServer, capsys, monkeypatch) -> Quorum:  # noqa: ANN001
    healthy = world(api2)
    body = block("broken", vc, "retries = 2\nread_timeout = 0.5") + block(
        "healthy", healthy
    ).replace('"site"', '"site2"')
    return Quorum(team_config(tmp_path, body), capsys, monkeypatch, "VERCEL_TOKEN")


def check_status(q: Quorum, expected: str) -> None:
    assert q("status", "--json") == 1
    assert {r["provider"] for r in json.loads(q.out)} == {"healthy"}
    (line,) = [e for e in q.err.splitlines() if "provider broken" in e]
    assert expected in line, line
    assert_no_token(q.out, q.err)


def test_a_refused_token_is_one_line_naming_its_source(two: Quorum, vc: FakeVercel) -> None:
    def echo(request: Request) -> Response:
        sent = request.headers.get("Authorization", "")
        return Response(json.dumps({"error": {"code": "forbidden", "message": f"bad {sent}"}}),
                        401, content_type="application/json")  # fmt: skip

    vc.fault = echo
    check_status(two, "auth: /v9/projects/collective-site: 401 the token from $VERCEL_TOKEN")


def test_a_wrong_team_is_not_found(
    tmp_path: Path,
    vc: FakeVercel,
    capsys,
    monkeypatch,  # noqa: ANN001
) -> None:
    config = team_config(tmp_path, block("vercel", vc).replace(TEAM, "team_other"))
    q = Quorum(config, capsys, monkeypatch, "VERCEL_TOKEN")
    assert q("status", "--json") == 1
    assert "not found: /v9/projects/collective-site: 404: The project was not found" in q.err


def test_a_server_error_is_retried_a_bounded_number_of_times(two: Quorum, vc: FakeVercel) -> None:
    vc.fault = lambda request: Response("<html>oops</html>", 500)
    check_status(two, "bad response: /v9/projects/collective-site: 500")
    assert len(vc.seen) == 3  # the project, read once for both targets: one try, 2 more


def test_429_waits_for_retry_after_then_answers(two: Quorum, vc: FakeVercel) -> None:
    calls = {"n": 0}

    def busy_once(request: Request) -> Response | None:
        calls["n"] += 1
        return Response("{}", 429, headers={"Retry-After": "0"}) if calls["n"] <= 2 else None

    vc.fault = busy_once
    assert two("status", "--json") == 0, two.err
    assert {r["provider"] for r in json.loads(two.out)} == {"broken", "healthy"}
    assert [s.status for s in vc.seen].count(429) == 2


async def test_a_hanging_server_times_out_while_the_others_keep_updating(
    two: Quorum, vc: FakeVercel
) -> None:
    error, healthy = await hang_one_provider(two.config, vc)
    assert error.startswith("timeout: 127.0.0.1 gave no answer in time"), error
    assert healthy is None
