"""CloudWatch metrics and alarms tied to the right ECS services, in batched calls.

moto cannot compute percentile statistics (a `p99` query answers HTTP 500), so the
load balancers' numbers come from tests.aws_wire.MetricData in front of moto, which
answers GetMetricData as CloudWatch documents it; ELB and ECS stay moto's.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.cli.main import main
from console.domain.model import CPU, ERROR_RATE, MEMORY, P99, Health, TargetRef
from providers.aws.cloudwatch import ERRORS_5XX, REQUESTS, _derived
from providers.aws.ecs import EcsProvider
from providers.base import ProviderContext
from tests.aws_fixtures import (  # noqa: F401 - fixtures
    REGION,
    Proxy,
    alb_world,
    client,
    cluster,
    ecs_config,
    ecs_service,
    moto_fixture,
    moto_url_fixture,
    proxy_fixture,
    register,
)

WEB = TargetRef("aws", "web", "production", "prod/web")


def metric(url: str, cluster_name: str, service: str, name: str, value: float) -> None:
    client(url, "cloudwatch").put_metric_data(
        Namespace="AWS/ECS",
        MetricData=[{
            "MetricName": name,
            "Dimensions": [{"Name": "ClusterName", "Value": cluster_name},
                           {"Name": "ServiceName", "Value": service}],
            "Timestamp": datetime.now(UTC) - timedelta(minutes=1),
            "Value": value,
        }],
    )  # fmt: skip


def alarm(url: str, name: str, cluster_name: str, service: str, state: str, reason: str) -> None:
    cloudwatch = client(url, "cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName=name, Namespace="AWS/ECS", MetricName="CPUUtilization",
        Dimensions=[{"Name": "ClusterName", "Value": cluster_name},
                    {"Name": "ServiceName", "Value": service}],
        Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=90,
        ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)


def seeded(url: str) -> None:
    cluster(url, "prod")
    cluster(url, "stage")
    td = register(url, "web", "registry.example/web:1.0")
    for env in ("prod", "stage"):
        for name in ("web", "api"):
            ecs_service(url, env, name, td)
    metric(url, "prod", "web", "CPUUtilization", 93.0)
    metric(url, "prod", "web", "MemoryUtilization", 40.0)
    metric(url, "stage", "web", "CPUUtilization", 75.0)
    metric(url, "prod", "api", "CPUUtilization", 12.0)
    alarm(url, "api-5xx", "prod", "api", "ALARM", "Threshold Crossed: 1 datapoint [12.0] > 5")
    alarm(url, "web-stage-quiet", "stage", "web", "INSUFFICIENT_DATA", "no datapoints")
    alarm(url, "other-team", "prod", "billing", "ALARM", "not ours")


def test_metrics_and_alarms_land_on_the_right_services(moto: str, tmp_path: Path) -> None:
    seeded(moto)
    settings = {"region": REGION, "endpoint_url": moto,
                "environments": {"production": "prod", "staging": "stage"}}  # fmt: skip

    async def take():
        made = EcsProvider("aws", settings, ProviderContext(tmp_path))
        try:
            return await made.snapshot()
        finally:
            await made.close()

    rows = {(t.ref.service, t.ref.environment): t for t in asyncio.run(take()).targets}
    assert rows["web", "production"].metrics == {CPU: 93.0, MEMORY: 40.0}
    assert rows["web", "staging"].metrics == {CPU: 75.0}
    assert rows["api", "production"].metrics == {CPU: 12.0}
    assert rows["api", "staging"].metrics == {}
    assert [a.name for a in rows["api", "production"].alarms] == ["api-5xx"]
    assert rows["api", "production"].message.startswith("alarm api-5xx: Threshold Crossed")
    assert [(a.name, a.state) for a in rows["web", "staging"].alarms] == [
        ("web-stage-quiet", "INSUFFICIENT_DATA")
    ]
    assert rows["web", "production"].alarms == ()


def test_status_json_shows_the_alarm_as_critical_health(moto: str, tmp_path: Path, capsys) -> None:
    seeded(moto)
    assert main(["status", "--json", "--config", str(ecs_config(tmp_path, moto))]) == 0
    rows = {(r["service"], r["environment"]): r for r in json.loads(capsys.readouterr().out)}
    api = rows["api", "production"]
    assert api["health"] == "critical"
    assert api["alarms"] == [{"name": "api-5xx", "state": "ALARM",
                              "reason": "Threshold Crossed: 1 datapoint [12.0] > 5"}]  # fmt: skip
    assert rows["web", "production"]["health"] == Health.CRITICAL  # CPU 93 % > 90 %
    assert rows["web", "staging"]["health"] == Health.WARNING  # no data, CPU 75 %
    # No metrics, and the alarm of another service ("billing") lands on no row.
    assert rows["api", "staging"]["health"] == Health.UNKNOWN
    assert all(a["name"] != "other-team" for r in rows.values() for a in r["alarms"])


def test_metrics_of_300_services_take_two_get_metric_data_calls(
    moto: str, proxy: Proxy, tmp_path: Path
) -> None:
    cluster(moto, "prod")
    td = register(moto, "web", "registry.example/web:1.0")
    for i in range(300):
        ecs_service(moto, "prod", f"svc-{i:03}", td)
    metric(moto, "prod", "svc-299", "CPUUtilization", 55.0)
    settings = {"region": REGION, "endpoint_url": proxy.url, "metrics_interval": 3600,
                "environments": {"production": "prod"}}  # fmt: skip

    async def take():
        made = EcsProvider("aws", settings, ProviderContext(tmp_path))
        try:
            # A listing waits a bounded time for CloudWatch; on a loaded machine the
            # values come with a later snapshot of the same read (one read an hour).
            for _ in range(30):
                rows = {t.ref.service: t for t in (await made.snapshot()).targets}
                if rows["svc-299"].metrics:
                    return rows
            return rows
        finally:
            await made.close()

    rows = asyncio.run(take())
    assert rows["svc-299"].metrics == {CPU: 55.0}
    # 600 queries (CPU and memory each): calls of at most 500.
    assert proxy.counts["GetMetricData"] == 2


def test_alb_numbers_become_an_error_rate_and_p99_in_ms() -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    found = _derived({REQUESTS: [(at, 400.0)], ERRORS_5XX: [(at, 8.0)], P99: [(at, 1.25)],
                      CPU: [(at, 50.0)]})  # fmt: skip
    assert found == {ERROR_RATE: [(at, 2.0)], P99: [(at, 1250.0)], CPU: [(at, 50.0)]}


def test_one_services_series_for_the_metrics_pane(moto: str, tmp_path: Path) -> None:
    seeded(moto)
    settings = {"region": REGION, "endpoint_url": moto,
                "environments": {"production": "prod", "staging": "stage"}}  # fmt: skip

    async def read():
        made = EcsProvider("aws", settings, ProviderContext(tmp_path))
        try:
            return await made.metrics(WEB, timedelta(minutes=30))
        finally:
            await made.close()

    series = {s.name: s for s in asyncio.run(read())}
    assert series[CPU].latest == 93.0 and series[MEMORY].latest == 40.0


def test_alb_p99_and_error_rate_come_from_get_metric_data(
    moto: str, proxy: Proxy, tmp_path: Path
) -> None:
    data = alb_world(moto, proxy)
    [group] = client(moto, "elbv2").describe_target_groups(Names=["slow-tg"])["TargetGroups"]
    tg = "targetgroup/" + group["TargetGroupArn"].partition(":targetgroup/")[2]
    cloudwatch = client(moto, "cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="slow-latency", Namespace="AWS/ApplicationELB",
        MetricName="TargetResponseTime", Dimensions=[{"Name": "TargetGroup", "Value": tg}],
        ExtendedStatistic="p99", Period=60, EvaluationPeriods=1, Threshold=0.5,
        ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    cloudwatch.set_alarm_state(AlarmName="slow-latency", StateValue="ALARM",
                               StateReason="p99 0.75 > 0.5")  # fmt: skip
    settings = {"region": REGION, "endpoint_url": proxy.url,
                "environments": {"production": "prod"}}  # fmt: skip

    async def take():
        made = EcsProvider("aws", settings, ProviderContext(tmp_path))
        try:
            rows = {t.ref.service: t for t in (await made.snapshot()).targets}
            return rows, await made.metrics(rows["stuck"].ref, timedelta(minutes=30))
        finally:
            await made.close()

    rows, series = asyncio.run(take())
    assert {name: t.metrics.get(P99) for name, t in rows.items()} == {
        "fast": 320.0, "slow": 750.0, "stuck": 1250.0,
    }  # fmt: skip
    assert rows["stuck"].metrics[ERROR_RATE] == 1.0  # 1 of 100 requests
    assert rows["fast"].metrics == {CPU: 30.0, ERROR_RATE: 0.5, P99: 320.0}
    assert {s.name: s.latest for s in series}[P99] == 1250.0
    # An alarm on the target group (CloudWatch's `targetgroup/name/id`) lands on its service.
    assert [a.name for a in rows["slow"].alarms] == ["slow-latency"]
    assert rows["fast"].alarms == () and rows["stuck"].alarms == ()
    # The percentile was asked of CloudWatch: three services, then one service's series.
    assert data.stats_asked["p99"] == 4 and data.calls == 2


def test_metrics_that_cannot_be_read_are_named_on_the_rows(
    moto: str, proxy: Proxy, tmp_path: Path
) -> None:
    seeded(moto)
    proxy.deny.add("GetMetricData")
    settings = {"region": REGION, "endpoint_url": proxy.url,
                "environments": {"production": "prod", "staging": "stage"}}  # fmt: skip

    async def take():
        made = EcsProvider("aws", settings, ProviderContext(tmp_path))
        try:
            return await made.snapshot()
        finally:
            await made.close()

    rows = {(t.ref.service, t.ref.environment): t for t in asyncio.run(take()).targets}
    web = rows["web", "production"]
    assert web.metrics == {}
    assert web.message == "no metrics: auth: CloudWatch metrics: access denied: not authorized"
    # The alarms are read apart, and still land.
    assert rows["api", "production"].message.startswith("alarm api-5xx: ")
