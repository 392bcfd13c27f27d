"""A site served by Vercel, Netlify and GitLab Pages behind one Cloudflare load
balancer is one Services row: each platform's state and which one serves now, read
from loopback APIs built from the documented shapes; a failover made through the
actions path moves the serving platform on that same row."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from console.domain.model import RolloutStatus
from console.domain.settings import Config
from console.tui.views import service_views
from tests.ci_support import Quorum, team_config
from tests.cloudflare_fake import FakeCloudflare
from tests.netlify_fake import SITE_ID, FakeNetlify
from tests.site_support import (
    NETLIFY_HOST,
    VERCEL_CNAME,
    blocks,
    cf_api,
    cf_fixture,
    netlify_api,
    netlify_fixture,
    providers,
    site_tokens_fixture,
    snapshots,
    states,
    vercel_api,
    vercel_fixture,
)
from tests.vercel_fake import PROJECT_NAME, FakeVercel

__all__ = ["cf_api", "cf_fixture", "netlify_api", "netlify_fixture", "site_tokens_fixture",
           "vercel_api", "vercel_fixture"]  # fmt: skip
pytestmark = pytest.mark.usefixtures("site_tokens")


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
