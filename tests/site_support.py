"""A site served by Vercel and Netlify behind one Cloudflare load balancer, on the
loopback fakes built from the documented shapes: the fixtures, the config blocks and
the providers the site tests of the console and of the command line share.

Import the fixtures by name (`cf`, `vercel`, `netlify`, `site_tokens`) into a test
module; the servers they need come with them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from console.domain.model import Snapshot
from console.engine.hub import ProviderState
from providers.base import Provider, ProviderContext
from providers.cloudflare import CloudflareProvider
from providers.netlify import NetlifyProvider
from providers.vercel import VercelProvider
from tests.ci_support import TOKENS, loopback_server
from tests.cloudflare_fake import ACCOUNT, HOST, ZONE, FakeCloudflare, pool, region
from tests.netlify_fake import SITE_ID, SITE_NAME, FakeNetlify, deploy
from tests.vercel_fake import PROJECT_NAME, TEAM, FakeVercel, deployment

VERCEL_CNAME = "cname.vercel-dns.com"  # Vercel's shared origin: the Host header says which
NETLIFY_HOST = f"{SITE_NAME}.netlify.app"
TOKEN_ENVS = ("CLOUDFLARE_API_TOKEN", "VERCEL_TOKEN", "NETLIFY_AUTH_TOKEN")


def _server() -> Iterator[HTTPServer]:
    yield from loopback_server()


cf_api = pytest.fixture(_server, name="cf_api")
vercel_api = pytest.fixture(_server, name="vercel_api")
netlify_api = pytest.fixture(_server, name="netlify_api")


@pytest.fixture(name="site_tokens")
def site_tokens_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TOKEN_ENVS:
        monkeypatch.setenv(name, TOKENS["alice"])


@pytest.fixture(name="cf")
def cf_fixture(cf_api: HTTPServer) -> FakeCloudflare:
    """Vercel serves (pool `primary`), Netlify stands by (`backup`), GitLab Pages is
    the disabled fallback."""
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


@pytest.fixture(name="vercel")
def vercel_fixture(vercel_api: HTTPServer) -> FakeVercel:
    fake = FakeVercel(vercel_api)
    fake.deployments = [deployment(1, "READY"), deployment(2, "READY")]
    fake.production = "dpl_2"
    return fake


@pytest.fixture(name="netlify")
def netlify_fixture(netlify_api: HTTPServer) -> FakeNetlify:
    fake = FakeNetlify(netlify_api)
    fake.deploys = [deploy(1, "ready", published=True), deploy(2, "error")]
    fake.published = "66500001"
    return fake


def blocks(
    cf: FakeCloudflare, vercel: FakeVercel, netlify: FakeNetlify, *, service: str = ""
) -> str:
    """The three provider blocks; with `service`, Vercel and Netlify call the site by
    that name too (as the README's example does), else by their own names."""
    vercel_services = f'services = {{ "{PROJECT_NAME}" = "{service}" }}' if service else ""
    netlify_services = f'services = {{ "{SITE_ID}" = "{service}" }}' if service else ""
    return f"""
[[providers]]
name = "edge"
kind = "cloudflare"
account = "{ACCOUNT}"
zone = "{ZONE}"
load_balancer = "{HOST}"
api_url = "{cf.url}"
token_env = "CLOUDFLARE_API_TOKEN"
service = "{service or "site"}"

[[providers]]
name = "vercel"
kind = "vercel"
project = "{PROJECT_NAME}"
team = "{TEAM}"
api_url = "{vercel.url}"
token_env = "VERCEL_TOKEN"
environments = {{ production = "production" }}
{vercel_services}

[[providers]]
name = "netlify"
kind = "netlify"
site = "{SITE_ID}"
api_url = "{netlify.url}"
token_env = "NETLIFY_AUTH_TOKEN"
{netlify_services}
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
