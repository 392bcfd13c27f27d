"""A site served by Vercel, Netlify and GitLab Pages behind one Cloudflare load
balancer is one Services row: each platform's state and which one serves now, read
from loopback APIs built from the documented shapes; a failover made through the
actions path moves the serving platform on that same row."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from console.domain.model import RolloutStatus, Snapshot
from console.domain.settings import Config
from console.engine.hub import ProviderState
from console.tui.views import service_views
from providers.base import Provider, ProviderContext
from providers.cloudflare import CloudflareProvider
from providers.netlify import NetlifyProvider
from providers.vercel import VercelProvider
from tests.ci_support import TOKENS, Quorum, loopback_server, team_config
from tests.cloudflare_fake import ACCOUNT, HOST, ZONE, FakeCloudflare, pool, region
from tests.netlify_fake import SITE_ID, SITE_NAME, FakeNetlify, deploy
from tests.vercel_fake import PROJECT_NAME, TEAM, FakeVercel, deployment

VERCEL_CNAME = "cname.vercel-dns.com"  # Vercel's shared origin: the Host header says which
NETLIFY_HOST = f"{SITE_NAME}.netlify.app"


def _server() -> Iterator[HTTPServer]:
    yield from loopback_server()


cf_api = pytest.fixture(_server)
vercel_api = pytest.fixture(_server)
netlify_api = pytest.fixture(_server)


@pytest.fixture(autouse=True)
def tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLOUDFLARE_API_TOKEN", "VERCEL_TOKEN", "NETLIFY_AUTH_TOKEN"):
        monkeypatch.setenv(name, TOKENS["alice"])


@pytest.fixture
def cf(cf_api: HTTPServer) -> FakeCloudflare:
    fake = FakeCloudflare(cf_api)
    vercel_pool = pool("p1", "primary", VERCEL_CNAME)
    vercel_pool["origins"][0]["header"] = {"Host": [f"{PROJECT_NAME}.vercel.app"]}
    fake.pools = [
        vercel_pool,
        pool("p2", "backup", NETLIFY_HOST),
        pool("p3", "fallback", "collective.gitlab.io", enabled=False),
    ]
    fake.health = {
        "p1": {"WEU": region(True, (VERCEL_CNAME, True))},
        "p2": {"WEU": region(True, (NETLIFY_HOST, True))},
    }
    fake.load_balancers = [
        {"id": "lb1", "name": HOST, "enabled": True, "steering_policy": "off",
         "default_pools": ["p1", "p2"], "fallback_pool": "p3", "proxied": True},
    ]  # fmt: skip
    return fake


@pytest.fixture
def vercel(vercel_api: HTTPServer) -> FakeVercel:
    fake = FakeVercel(vercel_api)
    fake.deployments = [deployment(1, "READY"), deployment(2, "READY")]
    fake.production = "dpl_2"
    return fake


@pytest.fixture
def netlify(netlify_api: HTTPServer) -> FakeNetlify:
    fake = FakeNetlify(netlify_api)
    fake.deploys = [deploy(1, "ready", published=True), deploy(2, "error")]
    fake.published = "66500001"
    return fake


def blocks(cf: FakeCloudflare, vercel: FakeVercel, netlify: FakeNetlify) -> str:
    return f"""
[[providers]]
name = "edge"
kind = "cloudflare"
account = "{ACCOUNT}"
zone = "{ZONE}"
load_balancer = "{HOST}"
api_url = "{cf.url}"
token_env = "CLOUDFLARE_API_TOKEN"
service = "site"

[[providers]]
name = "vercel"
kind = "vercel"
project = "{PROJECT_NAME}"
team = "{TEAM}"
api_url = "{vercel.url}"
token_env = "VERCEL_TOKEN"
environments = {{ production = "production" }}

[[providers]]
name = "netlify"
kind = "netlify"
site = "{SITE_ID}"
api_url = "{netlify.url}"
token_env = "NETLIFY_AUTH_TOKEN"
"""


def providers(cf: FakeCloudflare, vercel: FakeVercel, netlify: FakeNetlify) -> list[Provider]:
    context = ProviderContext(data_dir=Path("."))
    return [
        CloudflareProvider("edge", {"account": ACCOUNT, "zone": ZONE, "load_balancer": HOST,
                                    "api_url": cf.url, "token_env": "CLOUDFLARE_API_TOKEN",
                                    "service": "site"}, context),
        VercelProvider("vercel", {"project": PROJECT_NAME, "team": TEAM, "api_url": vercel.url,
                                  "token_env": "VERCEL_TOKEN",
                                  "environments": {"production": "production"}}, context),
        NetlifyProvider("netlify", {"site": SITE_ID, "api_url": netlify.url,
                                    "token_env": "NETLIFY_AUTH_TOKEN"}, context),
    ]  # fmt: skip


async def snapshots(cf: FakeCloudflare, vercel: FakeVercel, netlify: FakeNetlify) -> list[Snapshot]:
    built = providers(cf, vercel, netlify)
    try:
        return [await p.snapshot() for p in built]
    finally:
        for p in built:
            await p.close()


def states(snaps: list[Snapshot]) -> list[ProviderState]:
    return [ProviderState(s.provider, s.provider, s, last_ok=s.taken_at) for s in snaps]


async def test_the_platforms_behind_the_load_balancer_are_one_row_naming_the_serving_one(
    cf: FakeCloudflare, vercel: FakeVercel, netlify: FakeNetlify
) -> None:
    views = service_views(states(await snapshots(cf, vercel, netlify)), Config())
    assert [v.key for v in views] == ["edge/site/production"]
    (site,) = views
    assert site.live == "vercel"
    assert site.platforms == ("vercel", "netlify")
    t = site.target
    assert t.revision == "dpl_2"  # the serving platform's live deployment
    assert t.status is RolloutStatus.READY
    # Netlify's newest deploy failed, so one of the two platforms is ready
    assert (t.ready, t.desired) == (1, 2)
    assert t.message.startswith("serving vercel ready dpl_2")
    assert "standby netlify failed 66500001" in t.message
    assert "via edge: serving pool primary" in t.message


def test_a_failover_through_the_actions_path_moves_the_serving_platform(
    cf: FakeCloudflare, vercel: FakeVercel, netlify: FakeNetlify, tmp_path: Path, capsys,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    q = Quorum(team_config(tmp_path, blocks(cf, vercel, netlify)), capsys, monkeypatch,
               "CLOUDFLARE_API_TOKEN")  # fmt: skip
    assert q("deploy", "site", "--env", "production", "--revision", "disable:primary") == 0, q.err
    assert [(r.method, r.body) for r in cf.requests("PATCH")] == [("PATCH", {"enabled": False})]
    (site,) = service_views(states(asyncio.run(snapshots(cf, vercel, netlify))), Config())
    assert site.live == "netlify"
    assert site.platforms == ("netlify", "vercel")
    assert site.target.revision == "66500001"
    assert "standby vercel ready dpl_2 (disabled at the front)" in site.target.message


async def test_a_front_with_no_known_platform_and_unrelated_rows_stay_as_they_are(
    cf: FakeCloudflare, vercel: FakeVercel, netlify: FakeNetlify
) -> None:
    for p in cf.pools:
        for origin in p["origins"]:
            origin.pop("header", None)
            origin["address"] = "203.0.113.7"
    views = service_views(states(await snapshots(cf, vercel, netlify)), Config())
    assert sorted(v.key for v in views) == [
        "edge/site/production",
        f"netlify/{SITE_ID}/production",
        f"vercel/{PROJECT_NAME}/production",
    ]
    assert all(not v.platforms and not v.live for v in views)


async def test_on_screen_the_site_is_one_row_and_describe_heads_with_it(
    cf: FakeCloudflare, vercel: FakeVercel, netlify: FakeNetlify, tmp_path: Path
) -> None:
    from console.app import QuorumApp
    from console.domain.identity import Identity
    from tests.app_support import make_session, settle
    from widgets.dialogs.details import DetailsScreen

    session = make_session(tmp_path / "data", providers(cf, vercel, netlify))
    app = QuorumApp(session, identity=Identity("me", "me"), poll_interval=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.services.table
        await settle(pilot, lambda: table.keys == ["edge/site/production"]
                     and all(s.last_ok for s in app.hub.states.values()))  # fmt: skip
        cells = table.cells("edge/site/production")
        assert (cells[2], cells[3], cells[5]) == ("vercel+1", "dpl_2", "1/2")
        await settle(pilot, lambda: app.selected is not None)
        await pilot.press("d")
        await settle(pilot, lambda: isinstance(app.screen, DetailsScreen))
        assert app.screen.details.target.message.startswith("serving vercel ready dpl_2")
        assert [p.node for p in app.screen.details.pods][:2] == [VERCEL_CNAME, NETLIFY_HOST]
