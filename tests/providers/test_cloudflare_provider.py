"""Cloudflare load balancing against a loopback API from the documented shapes: the
pool that serves and every pool's and origin's health, failover by disabling or
enabling a pool or an origin through the actions path (the production policy
applies), and what a person sees when the API misbehaves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from console.domain.model import TargetRef
from providers.base import ProviderContext
from providers.cloudflare import CloudflareProvider
from tests.ci_support import (
    TOKENS,
    Quorum,
    assert_no_token,
    audit_records,
    hang_one_provider,
    team_config,
)
from tests.cloudflare_fake import ACCOUNT, HOST, ZONE, FakeCloudflare, pool, region


def world(server: HTTPServer) -> FakeCloudflare:
    fake = FakeCloudflare(server)
    fake.pools = [
        pool("p1", "vercel", "cname.vercel-dns.com"),
        pool("p2", "netlify", "collective-site.netlify.app", "backup.netlify.app"),
        pool("p3", "gitlab-pages", "collective.gitlab.io", enabled=False),
    ]
    fake.health = {
        "p1": {"WEU": region(True, ("cname.vercel-dns.com", True)),
               "ENAM": region(True, ("cname.vercel-dns.com", True))},
        "p2": {"WEU": region(True, ("collective-site.netlify.app", True),
                             ("backup.netlify.app", True)),
               "ENAM": region(False, ("collective-site.netlify.app", False),
                              ("backup.netlify.app", True))},
    }  # fmt: skip
    fake.load_balancers = [
        {"id": "lb1", "name": HOST, "enabled": True, "steering_policy": "off",
         "default_pools": ["p1", "p2"], "fallback_pool": "p3", "proxied": True},
    ]  # fmt: skip
    return fake


@pytest.fixture
def cf(api: HTTPServer) -> FakeCloudflare:
    return world(api)


def block(name: str, fake: FakeCloudflare, extra: str = "") -> str:
    return f"""
[[providers]]
name = "{name}"
kind = "cloudflare"
account = "{ACCOUNT}"
zone = "{ZONE}"
load_balancer = "{HOST}"
api_url = "{fake.url}"
token_env = "CLOUDFLARE_API_TOKEN"
{extra}
"""


@pytest.fixture
def q(tmp_path: Path, cf: FakeCloudflare, capsys, monkeypatch) -> Quorum:  # noqa: ANN001
    return Quorum(team_config(tmp_path, block("edge", cf)), capsys, monkeypatch,
                  "CLOUDFLARE_API_TOKEN")  # fmt: skip


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKENS["alice"])


def test_the_row_names_the_serving_pool_and_each_pools_health(
    q: Quorum, cf: FakeCloudflare
) -> None:
    (row,) = q.json("status")
    assert (row["service"], row["environment"], row["revision"]) == ("site", "production",
                                                                     "vercel")  # fmt: skip
    assert row["status"] == "degraded"  # the backup pool fails in one region
    assert (row["ready"], row["desired"]) == (1, 3)
    assert row["updated_at"] == "2026-03-02T09:00:00Z"  # the last change to a pool
    assert q("describe", "site", "--env", "production") == 0, q.err
    assert "serving pool vercel (vercel-1) · steering off" in q.out
    assert "netlify unhealthy in 1 of 2 regions (HTTP 502)" in q.out
    assert "gitlab-pages disabled" in q.out
    assert "netlify/netlify-1" in q.out and "collective-site.netlify.app" in q.out
    assert not cf.requests(path="/p3/health")  # a disabled pool is not health-checked
    assert all(s.auth == TOKENS["alice"] for s in cf.seen)
    assert_no_token(q.out, q.err)


def test_an_unhealthy_primary_fails_over_to_the_next_pool(q: Quorum, cf: FakeCloudflare) -> None:
    for where in cf.health["p1"].values():
        where["healthy"] = False
    (row,) = q.json("status")
    assert (row["revision"], row["status"]) == ("netlify", "degraded")
    for where in cf.health["p2"].values():
        where["healthy"] = False
    (row,) = q.json("status")
    assert (row["revision"], row["status"]) == ("gitlab-pages", "failed")  # the fallback


def test_disabling_a_pool_is_a_failover_through_the_actions_path(
    q: Quorum, cf: FakeCloudflare, isolated_quorum: Path
) -> None:
    assert q("deploy", "site", "--env", "production", "--revision", "disable:vercel") == 0, q.err
    (patch,) = cf.requests("PATCH")
    assert patch.path == f"/client/v4/accounts/{ACCOUNT}/load_balancers/pools/p1"
    assert patch.body == {"enabled": False} and patch.auth == TOKENS["alice"]
    last = audit_records(isolated_quorum)[-1]
    assert (last["action"], last["revision"], last["outcome"]) == (
        "deploy", "disable:vercel", "finished")  # fmt: skip
    assert "disabled pool vercel on Cloudflare: 200" in str(last["comment"])
    (row,) = q.json("status")
    assert row["revision"] == "netlify"
    assert_no_token(q.out, q.err, audit_records(isolated_quorum))


def test_disabling_an_origin_sends_the_pools_origins_with_it_off(
    q: Quorum, cf: FakeCloudflare
) -> None:
    assert q("deploy", "site", "--env", "production", "--revision",
             "disable:netlify/netlify-1") == 0, q.err  # fmt: skip
    (patch,) = cf.requests("PATCH")
    assert patch.path.endswith("/pools/p2")
    assert [(o["name"], o["enabled"]) for o in patch.body["origins"]] == [
        ("netlify-1", False), ("netlify-2", True)]  # fmt: skip
    assert patch.body["origins"][1]["address"] == "backup.netlify.app"


def test_the_production_policy_turns_a_failover_into_a_proposal(
    tmp_path: Path,
    cf: FakeCloudflare,
    capsys,
    monkeypatch,  # noqa: ANN001
) -> None:
    config = team_config(tmp_path, block("edge", cf), approvals=2)
    q = Quorum(config, capsys, monkeypatch, "CLOUDFLARE_API_TOKEN")
    assert q("deploy", "site", "--env", "production", "--revision", "enable:gitlab-pages") == 3
    assert cf.requests("PATCH") == []


@pytest.mark.parametrize(
    ("revision", "said"),
    [
        ("disable:gitlab-pages", "pool gitlab-pages is already disabled"),
        ("disable:fastly", "no pool 'fastly' (pools: vercel, netlify, gitlab-pages)"),
        ("drain:vercel", "is not a failover: disable:POOL, enable:POOL"),
        ("disable:vercel/vercel-1", "vercel-1 is the last enabled origin of vercel"),
        ("enable:netlify/nope", "pool netlify has no origin 'nope'"),
    ],
)
def test_a_failover_that_cannot_be_is_refused_before_anything_is_sent(
    q: Quorum, cf: FakeCloudflare, revision: str, said: str
) -> None:
    assert q("deploy", "site", "--env", "production", "--revision", revision) != 0
    assert said in q.out + q.err
    assert cf.requests("PATCH") == []


def test_the_last_enabled_pool_is_not_disabled(q: Quorum, cf: FakeCloudflare) -> None:
    cf.pools[1]["enabled"] = False
    assert q("deploy", "site", "--env", "production", "--revision", "disable:vercel") != 0
    assert "vercel is the last enabled pool: enable another first" in q.out + q.err
    assert cf.requests("PATCH") == []


async def test_revisions_offer_each_pool_and_origin_the_other_way(cf: FakeCloudflare) -> None:
    provider = CloudflareProvider(
        "edge",
        {"account": ACCOUNT, "zone": ZONE, "load_balancer": HOST, "api_url": cf.url,
         "token_env": "CLOUDFLARE_API_TOKEN"},
        ProviderContext(data_dir=Path(".")),
    )  # fmt: skip
    try:
        found = await provider.revisions(TargetRef("edge", "site", "production", HOST))
    finally:
        await provider.close()
    assert [r.id for r in found] == [
        "disable:vercel", "disable:vercel/vercel-1",
        "disable:netlify", "disable:netlify/netlify-1", "disable:netlify/netlify-2",
        "enable:gitlab-pages", "disable:gitlab-pages/gitlab-pages-1",
    ]  # fmt: skip


def test_backend_text_is_shown_inert(q: Quorum, cf: FakeCloudflare) -> None:
    cf.pools[0]["name"] = "[reverse]vercel[/reverse]\x1b[8m"
    assert q("describe", "site", "--env", "production") == 0, q.err
    assert "\x1b" not in q.out and "[reverse]vercel[/reverse]␛[8m" in q.out


# --- a misbehaving API ----------------------------------------------------------------


@pytest.fixture
def two(tmp_path: Path, cf: FakeCloudflare, api2: HTTPServer, capsys, monkeypatch) -> Quorum:  # noqa: ANN001
    healthy = world(api2)
    body = block("broken", cf, "retries = 2\nread_timeout = 0.5") + block(
        "healthy", healthy, 'service = "site2"'
    )
    return Quorum(team_config(tmp_path, body), capsys, monkeypatch, "CLOUDFLARE_API_TOKEN")


def check_status(q: Quorum, expected: str) -> None:
    assert q("status", "--json") == 1
    assert {r["provider"] for r in json.loads(q.out)} == {"healthy"}
    (line,) = [e for e in q.err.splitlines() if "provider broken" in e]
    assert expected in line, line
    assert_no_token(q.out, q.err)


def test_a_refused_token_is_one_line_naming_its_source(two: Quorum, cf: FakeCloudflare) -> None:
    def echo(request: Request) -> Response:
        sent = request.headers.get("Authorization", "")
        body = {"success": False, "errors": [{"code": 10000, "message": f"bad {sent}"}],
                "messages": [], "result": None}  # fmt: skip
        return Response(json.dumps(body), 401, content_type="application/json")

    cf.fault = echo
    check_status(two, "401 the token from $CLOUDFLARE_API_TOKEN was refused: bad Bearer [token]")


def test_a_server_error_is_retried_a_bounded_number_of_times(
    two: Quorum, cf: FakeCloudflare
) -> None:
    cf.fault = lambda request: Response("<html>oops</html>", 500)
    check_status(two, "bad response: /client/v4/")
    # pools and load balancers are read at once: the first to fail tried once and
    # `retries = 2` more, and the refresh ends there
    tries = [len(cf.requests(path=p)) for p in ("/pools", "/zones/")]
    assert max(tries) == 3 and sum(tries) == len(cf.seen) <= 6


def test_429_waits_for_retry_after_then_answers(two: Quorum, cf: FakeCloudflare) -> None:
    calls = {"n": 0}

    def busy_once(request: Request) -> Response | None:
        calls["n"] += 1
        return Response("{}", 429, headers={"Retry-After": "0"}) if calls["n"] == 1 else None

    cf.fault = busy_once
    assert two("status", "--json") == 0, two.err
    assert {r["provider"] for r in json.loads(two.out)} == {"broken", "healthy"}
    assert [s.status for s in cf.seen].count(429) == 1


async def test_a_hanging_server_times_out_while_the_others_keep_updating(
    two: Quorum, cf: FakeCloudflare
) -> None:
    error, healthy = await hang_one_provider(two.config, cf)
    assert error.startswith("timeout: 127.0.0.1 gave no answer in time"), error
    assert healthy is None
