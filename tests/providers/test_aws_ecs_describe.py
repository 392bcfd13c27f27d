"""`quorum describe` of an ECS service: deployments, circuit breaker, events and tasks.

moto's services start no tasks, and its `run_task` of a Fargate (awsvpc) task
fails inside moto (HTTP 500), so tasks are mapped here from a `describe_tasks`
document in the shape the ECS API reference gives. moto neither keeps a service's
`deploymentConfiguration`, so the circuit breaker's line is checked on a
`describe_services` document too.
"""

from __future__ import annotations

import json
from pathlib import Path

from console.cli.main import main
from providers.aws.ecs import _deployment_events, _task_info
from tests.aws_fixtures import (  # noqa: F401 - fixtures
    cluster,
    ecs_config,
    ecs_service,
    moto_fixture,
    moto_url_fixture,
    register,
)


def test_describe_shows_deployments_breaker_and_stopped_tasks(
    moto: str, tmp_path: Path, capsys
) -> None:
    cluster(moto, "prod")
    cluster(moto, "stage")
    td = register(moto, "web", "registry.example/web:1.4")
    ecs_service(moto, "prod", "web", td)
    config = ecs_config(tmp_path, moto)
    args = ["describe", "web", "--env", "production", "--json", "--config", str(config)]
    assert main(args) == 0, capsys.readouterr().err
    doc = json.loads(capsys.readouterr().out)
    assert doc["target"]["revision"] == "web:1"
    assert doc["pods"] == []  # moto starts no tasks for a service
    reasons = {e["reason"]: e for e in doc["events"]}
    assert reasons["TaskDefinition"]["message"] == "web:1: web=registry.example/web:1.4"
    deployment = reasons["Deployment PRIMARY COMPLETED"]
    assert deployment["message"].startswith("web:1 desired 2 running 2 pending 0 failed 0")


def test_a_stopped_task_shows_why() -> None:
    task = {
        "taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/prod/0f3c9a",
        "lastStatus": "STOPPED",
        "desiredStatus": "STOPPED",
        "healthStatus": "UNKNOWN",
        "stoppedReason": "Essential container in task exited",
        "availabilityZone": "eu-west-1a",
        "containers": [
            {"name": "web", "lastStatus": "STOPPED", "exitCode": 137},
            {"name": "proxy", "lastStatus": "STOPPED",
             "reason": "CannotPullContainerError: pull access denied"},
        ],
    }  # fmt: skip
    info = _task_info(task)
    assert (info.name, info.phase, info.ready, info.node) == (
        "0f3c9a", "STOPPED", False, "eu-west-1a")  # fmt: skip
    assert info.reason == (
        "Essential container in task exited; web: exit 137; "
        "proxy: CannotPullContainerError: pull access denied"
    )
    assert info.containers == ("web", "proxy")


def test_the_circuit_breaker_line_says_whether_it_fired() -> None:
    reason = "ECS deployment circuit breaker: tasks failed to start."
    service = {
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True}
        },
        "deployments": [
            {"id": "ecs-svc/2", "status": "PRIMARY", "rolloutState": "IN_PROGRESS",
             "taskDefinition": "arn:aws:ecs:eu-west-1:1:task-definition/web:6"},
            {"id": "ecs-svc/1", "status": "ACTIVE", "rolloutState": "FAILED",
             "rolloutStateReason": reason, "failedTasks": 3,
             "taskDefinition": "arn:aws:ecs:eu-west-1:1:task-definition/web:7"},
        ],
    }  # fmt: skip
    breaker, primary, failed = _deployment_events(service)
    assert (breaker.type, breaker.message) == (
        "Warning", "enable=True rollback=True; fired on ecs-svc/1")  # fmt: skip
    assert primary.reason == "Deployment PRIMARY IN_PROGRESS" and primary.type == "Normal"
    assert failed.type == "Warning" and failed.message.endswith(f"failed 3: {reason}")
