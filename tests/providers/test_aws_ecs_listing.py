"""ECS services listed completely at the API's limits, and mapped to Quorum's statuses."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from console.cli.main import main
from console.domain.model import RolloutStatus
from providers.aws.ecs import EcsProvider
from providers.aws.ecs_status import status_of
from providers.base import NotFound, ProviderContext
from tests.aws_fixtures import (  # noqa: F401 - fixtures
    REGION,
    Proxy,
    cluster,
    ecs_config,
    ecs_service,
    moto_fixture,
    moto_url_fixture,
    proxy_fixture,
    register,
)


def provider(url: str, tmp_path: Path, **settings) -> EcsProvider:
    base = {
        "region": REGION,
        "endpoint_url": url,
        "environments": {"production": "prod", "staging": "stage"},
    }
    return EcsProvider("aws", {**base, **settings}, ProviderContext(tmp_path))


def snapshot(made: EcsProvider):
    async def go():
        try:
            return await made.snapshot()
        finally:
            await made.close()

    return asyncio.run(go())


def test_250_services_over_two_clusters_listed_in_pages_of_100_and_batches_of_10(
    moto: str, proxy: Proxy, tmp_path: Path
) -> None:
    cluster(moto, "prod")
    cluster(moto, "stage")
    td = register(moto, "web", "registry.example/web:1.0")
    for i in range(160):
        ecs_service(moto, "prod", f"svc-{i:03}", td)
    for i in range(90):
        ecs_service(moto, "stage", f"svc-{i:03}", td, desired=1)
    proxy.counts.clear()
    found = snapshot(provider(proxy.url, tmp_path))
    keys = {(t.ref.service, t.ref.environment) for t in found.targets}
    assert len(keys) == 250
    assert ("svc-159", "production") in keys and ("svc-089", "staging") in keys
    # prod: 2 pages (100 + 60), 16 describes; stage: 1 page, 9 describes.
    assert proxy.counts["ListServices"] == 3
    assert proxy.counts["DescribeServices"] == 16 + 9
    web = next(t for t in found.targets if t.ref.target == "prod/svc-000")
    assert web.revision == "web:1"
    assert (web.ready, web.desired, web.status) == (2, 2, RolloutStatus.READY)


def test_a_second_snapshot_within_the_poll_interval_costs_no_call(
    moto: str, proxy: Proxy, tmp_path: Path
) -> None:
    cluster(moto, "prod")
    ecs_service(moto, "prod", "web", register(moto, "web", "registry.example/web:1.0"))
    made = provider(proxy.url, tmp_path, poll_interval=600, environments={"production": "prod"})

    async def twice():
        try:
            first = await made.snapshot()
            calls = sum(proxy.counts.values())
            second = await made.snapshot()
            return first, second, calls
        finally:
            await made.close()

    first, second, calls = asyncio.run(twice())
    assert second is first
    assert sum(proxy.counts.values()) == calls


def test_a_missing_cluster_is_named(moto: str, tmp_path: Path) -> None:
    cluster(moto, "prod")
    with pytest.raises(NotFound, match="cluster stage .environment staging. does not exist"):
        snapshot(provider(moto, tmp_path))


def test_a_rollout_in_progress_is_progressing(moto: str, tmp_path: Path, monkeypatch) -> None:
    cluster(moto, "prod")
    cluster(moto, "stage")
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "1")
    ecs_service(moto, "prod", "api", register(moto, "api", "registry.example/api:2.0"), desired=3)
    [api] = snapshot(provider(moto, tmp_path)).targets
    assert api.status is RolloutStatus.PROGRESSING  # moto: IN_PROGRESS while 1 of 3 runs
    assert "1/3 running" in api.message


def test_status_json_lists_ecs_services(moto: str, tmp_path: Path, capsys) -> None:
    cluster(moto, "prod")
    cluster(moto, "stage")
    ecs_service(moto, "prod", "web", register(moto, "web", "registry.example/web:1.0"))
    assert main(["status", "--json", "--config", str(ecs_config(tmp_path, moto))]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["service"] == "web" and row["environment"] == "production"
    assert row["target"] == "prod/web" and row["revision"] == "web:1"
    assert row["alarms"] == []


# --- the status mapping, from documents shaped like describe_services answers ---------

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def svc(*deployments: dict, desired: int = 2, running: int = 2, **extra) -> dict:
    return {"status": "ACTIVE", "desiredCount": desired, "runningCount": running,
            "deployments": list(deployments), **extra}  # fmt: skip


def dep(state: str, status: str = "PRIMARY", td: str = "web:7", **extra) -> dict:
    return {"id": f"ecs-svc/{td}", "status": status, "rolloutState": state,
            "taskDefinition": f"arn:aws:ecs:{REGION}:1:task-definition/{td}",
            "updatedAt": NOW - timedelta(minutes=2), "runningCount": 1, "desiredCount": 2,
            **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("service", "status", "words"),
    [
        (svc(dep("COMPLETED")), RolloutStatus.READY, ""),
        (svc(dep("IN_PROGRESS"), dep("COMPLETED", "ACTIVE", "web:6")),
         RolloutStatus.PROGRESSING, "1/2 running"),
        (svc(dep("IN_PROGRESS", updatedAt=NOW - timedelta(hours=1), failedTasks=4)),
         RolloutStatus.DEGRADED, "ecs-svc/web:7 stuck for 60m: 1/2 running, 4 failed tasks"),
        (svc(dep("FAILED", rolloutStateReason="tasks failed to start")),
         RolloutStatus.FAILED, "web:7 failed: tasks failed to start"),
        (svc(dep("IN_PROGRESS", td="web:6"),
             dep("FAILED", "ACTIVE", "web:7",
                 rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.")),
         RolloutStatus.FAILED, "circuit breaker rolled back to web:6"),
        (svc(dep("COMPLETED"), running=1), RolloutStatus.DEGRADED, "1/2 tasks running"),
    ],
)  # fmt: skip
def test_status_mapping(service: dict, status: RolloutStatus, words: str) -> None:
    found, message = status_of(service, NOW, stuck_after=1800)
    assert found is status
    assert words in message


def test_two_regions_show_side_by_side(moto: str, tmp_path: Path, capsys) -> None:
    for region, name in (("eu-west-1", "web"), ("us-east-1", "api")):
        ecs = boto3.client("ecs", endpoint_url=moto, region_name=region)
        ecs.create_cluster(clusterName="prod")
        td = ecs.register_task_definition(
            family=name,
            containerDefinitions=[{"name": name, "image": f"r/{name}:1", "memory": 128}],
        )["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(cluster="prod", serviceName=name, taskDefinition=td, desiredCount=1)
    config = tmp_path / "quorum.toml"
    config.write_text(
        "".join(
            f"""
[[providers]]
name = "aws-{region}"
kind = "ecs"
region = "{region}"
endpoint_url = "{moto}"
environments = {{ production = "prod" }}
"""
            for region in ("eu-west-1", "us-east-1")
        )
    )
    assert main(["status", "--json", "--config", str(config)]) == 0
    rows = {(r["provider"], r["service"]) for r in json.loads(capsys.readouterr().out)}
    assert rows == {("aws-eu-west-1", "web"), ("aws-us-east-1", "api")}
