"""The console offers an ECS change only when IAM's policy simulator allows it.

ECS on moto, STS and IAM on tests.aws_wire.Iam: the caller's role may update the
services of cluster prod (production) and not those of stage (staging).
"""

from __future__ import annotations

from pathlib import Path

from console.app import QuorumApp
from providers.aws.ecs import EcsProvider
from providers.base import ProviderContext
from tests.app_support import make_session, move_cursor, settle
from tests.aws_fixtures import (  # noqa: F401 - fixtures
    REGION,
    Proxy,
    iam_fixture,
    moto_fixture,
    moto_url_fixture,
    proxy_fixture,
)
from tests.aws_wire import Iam
from widgets.dialogs.modals import FormScreen
from widgets.main import MainScreen


async def select(pilot, app: QuorumApp, key: str) -> None:
    move_cursor(app.services.table, key)
    await settle(pilot, lambda: app.selected is not None and app.selected.key == key)


async def test_scale_is_refused_with_iams_reason_where_denied_and_offered_where_allowed(
    moto: str, proxy: Proxy, iam: Iam, tmp_path: Path
) -> None:
    settings = {"region": REGION, "endpoint_url": proxy.url,
                "environments": {"production": "prod", "staging": "stage"}}  # fmt: skip
    ecs = EcsProvider("aws", settings, ProviderContext(tmp_path))
    app = QuorumApp(make_session(tmp_path / "data", [ecs]), poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.services.table
        for key in ("aws/web/staging", "aws/web/production"):
            await settle(pilot, lambda k=key: k in table.keys)
        await select(pilot, app, "aws/web/staging")
        await pilot.press("s")
        await settle(pilot, lambda: any("cannot scale web@staging" in m for m in app.notices))
        [notice] = [m for m in app.notices if "cannot scale web@staging" in m]
        assert notice.endswith(
            "aws denies it: not allowed to ecs:UpdateService on service/stage/web: "
            "no policy of role/teams/deployer allows it"
        )
        assert isinstance(app.screen, MainScreen)  # no form for a change IAM refuses

        await select(pilot, app, "aws/web/production")
        await pilot.press("s")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        assert iam.counts["SimulatePrincipalPolicy"] == 2
