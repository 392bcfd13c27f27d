"""An ECS service's load balancer p99 from CloudWatch, coloured by its threshold.

The whole way: CloudWatch's answer on the wire (tests.aws_wire.MetricData in front
of moto, which cannot compute percentiles), the ECS provider, the Services pane.
"""

from __future__ import annotations

from pathlib import Path

from console.app import QuorumApp
from console.domain.model import Health
from providers.aws.ecs import EcsProvider
from providers.base import ProviderContext
from tests.app_support import make_session, settle
from tests.aws_fixtures import (  # noqa: F401 - fixtures
    REGION,
    Proxy,
    alb_world,
    moto_fixture,
    moto_url_fixture,
    proxy_fixture,
)
from widgets.base.format import HEALTH_STYLES

P99_COLUMN, HEALTH_COLUMN = 11, 7


async def test_the_p99_column_shows_cloudwatchs_percentile_against_its_thresholds(
    moto: str, proxy: Proxy, tmp_path: Path
) -> None:
    alb_world(moto, proxy)
    settings = {"region": REGION, "endpoint_url": proxy.url,
                "environments": {"production": "prod"}}  # fmt: skip
    ecs = EcsProvider("aws", settings, ProviderContext(tmp_path))
    app = QuorumApp(make_session(tmp_path / "data", [ecs]), poll_interval=0.2)
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.services.table
        rows = {name: f"aws/{name}/production" for name in ("fast", "slow", "stuck")}

        def shown() -> bool:
            return all(k in table.keys and table.cells(k)[P99_COLUMN] != "-"
                       for k in rows.values())  # fmt: skip

        await settle(pilot, shown)
        cells = {name: table._cells[key] for name, key in rows.items()}
        # TargetResponseTime's p99 is in seconds; the column shows milliseconds.
        assert {n: c[P99_COLUMN].plain for n, c in cells.items()} == {
            "fast": "320", "slow": "750", "stuck": "1250",
        }  # fmt: skip
        # Above 500 ms a warning, above 1000 ms critical (the default thresholds).
        assert cells["fast"][P99_COLUMN].style == HEALTH_STYLES[Health.OK]
        assert cells["slow"][P99_COLUMN].style == HEALTH_STYLES[Health.WARNING]
        assert cells["stuck"][P99_COLUMN].style == HEALTH_STYLES[Health.CRITICAL]
        assert [cells[n][HEALTH_COLUMN].plain for n in ("fast", "slow", "stuck")] == [
            "ok", "warning", "critical",
        ]  # fmt: skip
