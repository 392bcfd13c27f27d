"""Deploy, rollback, restart and scale an ECS service through the actions path.

moto changes the service as ECS does (its task definition, desired count, a new
deployment id on a forced deployment), but never moves a deployment's
`rolloutState` on: a deployment is COMPLETED or IN_PROGRESS from birth. Following
a rollout from IN_PROGRESS to COMPLETED or FAILED is therefore tested against
`EcsWire`, a small HTTP server speaking ECS's JSON protocol
(`X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Operation>`, documented
request and response fields) whose deployment advances one step per describe.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from console.cli.main import main
from console.domain.model import TargetRef
from providers.aws.ecs import EcsProvider
from providers.base import ProviderContext
from tests.aws_fixtures import (  # noqa: F401 - fixtures
    ACCOUNT,
    REGION,
    aws_env,
    client,
    cluster,
    ecs_config,
    ecs_service,
    moto_fixture,
    moto_url_fixture,
    register,
)


def seeded(url: str) -> str:
    cluster(url, "prod")
    cluster(url, "stage")
    register(url, "web", "registry.example/web:1.0")
    current = register(url, "web", "registry.example/web:1.1")
    ecs_service(url, "prod", "web", current)
    return current


def service(url: str) -> dict:
    return client(url, "ecs").describe_services(cluster="prod", services=["web"])["services"][0]


def audit(config: Path, capsys, action: str) -> list[tuple[str, str]]:
    capsys.readouterr()
    assert main(["audit", "tail", "--json", "--config", str(config)]) == 0
    records = json.loads(capsys.readouterr().out)
    return [(r["outcome"], r["comment"]) for r in records if r["action"] == action]


def test_deploy_a_tag_registers_a_revision_from_the_current_one(
    moto: str, tmp_path: Path, capsys
) -> None:
    seeded(moto)
    config = ecs_config(tmp_path, moto)
    args = ["deploy", "web", "--env", "production", "--revision", "1.2", "--config", str(config)]
    assert main(args) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "deploying web:3 (web=registry.example/web:1.2, registered from web:2)" in out
    assert service(moto)["taskDefinition"].endswith("task-definition/web:3")
    td = client(moto, "ecs").describe_task_definition(taskDefinition="web:3")["taskDefinition"]
    [container] = td["containerDefinitions"]
    assert container["image"] == "registry.example/web:1.2"
    # Everything else is copied from the revision it was registered from.
    assert container["logConfiguration"]["options"]["awslogs-group"] == "/collective/web"
    assert (td["cpu"], td["memory"], td["networkMode"]) == ("256", "512", "awsvpc")
    outcomes = audit(config, capsys, "deploy")
    assert [o for o, _ in outcomes] == ["started", "finished"]
    assert "web:3" in outcomes[1][1]


def test_revisions_are_the_family_newest_first_with_images(moto: str, tmp_path: Path) -> None:
    seeded(moto)
    register(moto, "web-admin", "registry.example/admin:9")  # another family, same prefix
    settings = {"region": REGION, "endpoint_url": moto, "environments": {"production": "prod"}}

    async def read():
        made = EcsProvider("aws", settings, ProviderContext(tmp_path))
        try:
            return await made.revisions(TargetRef("aws", "web", "production", "prod/web"))
        finally:
            await made.close()

    assert [(r.id, r.description, r.current) for r in asyncio.run(read())] == [
        ("web:2", "web=registry.example/web:1.1", True),
        ("web:1", "web=registry.example/web:1.0", False),
    ]


def test_deploy_a_chosen_revision(moto: str, tmp_path: Path, capsys) -> None:
    seeded(moto)
    config = ecs_config(tmp_path, moto)
    assert main(["deploy", "web", "--env", "production", "--revision", "web:1",
                 "--config", str(config)]) == 0  # fmt: skip
    assert service(moto)["taskDefinition"].endswith("task-definition/web:1")
    assert main(["deploy", "web", "--env", "production", "--revision", "2",
                 "--config", str(config)]) == 0  # fmt: skip
    assert service(moto)["taskDefinition"].endswith("task-definition/web:2")


def test_a_revision_ecs_cannot_take_is_refused_before_anything_starts(
    moto: str, tmp_path: Path, capsys
) -> None:
    seeded(moto)
    config = ecs_config(tmp_path, moto)
    common = ["web", "--env", "production", "--config", str(config)]
    assert main(["deploy", *common, "--revision", "web:9"]) == 2
    assert "cannot deploy this revision: unable to find task definition web:9" in (
        capsys.readouterr().err
    )
    assert main(["deploy", *common, "--revision", "sidecar=envoy:1.31"]) == 2
    assert "has no container 'sidecar' (web)" in capsys.readouterr().err
    assert main(["propose", "deploy", *common, "--revision", "web:9", "--reason", "x"]) == 2
    assert service(moto)["taskDefinition"].endswith("task-definition/web:2")  # untouched
    assert audit(config, capsys, "deploy") == []  # nothing started, nothing to resolve


def test_rollback_goes_to_the_previous_revision_or_a_chosen_one(
    moto: str, tmp_path: Path, capsys
) -> None:
    seeded(moto)
    register(moto, "web", "registry.example/web:1.2")  # registered, never deployed
    config = ecs_config(tmp_path, moto)
    common = ["web", "--env", "production", "--config", str(config)]
    assert main(["rollback", *common]) == 0, capsys.readouterr().err
    assert service(moto)["taskDefinition"].endswith("task-definition/web:1")
    assert main(["rollback", *common, "--to", "web:3"]) == 0
    assert service(moto)["taskDefinition"].endswith("task-definition/web:3")
    assert main(["rollback", *common, "--to", "web:3"]) == 0
    assert "already runs web:3: skipped" in capsys.readouterr().out
    assert main(["rollback", *common, "--to", "api:1"]) == 1
    assert "'api:1' is not a revision of web" in capsys.readouterr().out
    assert [o for o, _ in audit(config, capsys, "rollback")] == ["started", "finished"] * 3 + [
        "started",
        "failed",
    ]


def test_restart_forces_a_new_deployment_and_scale_sets_the_desired_count(
    moto: str, tmp_path: Path, capsys
) -> None:
    seeded(moto)
    before = service(moto)["deployments"][0]["id"]
    config = ecs_config(tmp_path, moto)
    common = ["web", "--env", "production", "--config", str(config)]
    assert main(["restart", *common]) == 0, capsys.readouterr().err
    assert service(moto)["deployments"][0]["id"] != before
    assert main(["scale", *common, "--replicas", "5"]) == 0
    assert service(moto)["desiredCount"] == 5
    assert "scaled to 5 tasks" in capsys.readouterr().out
    assert [o for o, _ in audit(config, capsys, "scale")] == ["started", "finished"]
    assert [o for o, _ in audit(config, capsys, "restart")] == ["started", "finished"]


def test_production_deploy_needs_consensus_and_changes_nothing(
    moto: str, tmp_path: Path, capsys
) -> None:
    current = seeded(moto)
    config = ecs_config(tmp_path, moto)
    config.write_text(config.read_text().replace("min_approvals = 0", "min_approvals = 2"))
    args = ["deploy", "web", "--env", "production", "--revision", "1.2", "--config", str(config)]
    assert main(args) == 3
    assert "production needs consensus" in capsys.readouterr().err
    assert service(moto)["taskDefinition"] == current


def test_a_readonly_provider_changes_nothing(moto: str, tmp_path: Path, capsys) -> None:
    current = seeded(moto)
    config = ecs_config(tmp_path, moto, readonly="true")
    for args in (["deploy", "--revision", "1.2"], ["scale", "--replicas", "0"], ["restart"]):
        command = [args[0], "web", "--env", "production", *args[1:], "--config", str(config)]
        assert main(command) == 3
        assert "provider aws is read-only" in capsys.readouterr().err
    assert service(moto)["taskDefinition"] == current and service(moto)["desiredCount"] == 2


# --- following a rollout --------------------------------------------------------------

TD = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:7"


class EcsWire:
    """ECS's JSON protocol for one service whose deployment moves on at each describe."""

    def __init__(self, states: list[tuple[str, int, str]]) -> None:
        self.states = states  # (rolloutState, runningCount, rolloutStateReason) in turn
        self.step = 0
        self.updates: list[dict[str, Any]] = []
        wire = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                op = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
                status, answer = wire.answer(op, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def service(self) -> dict[str, Any]:
        state, running, reason = self.states[min(self.step, len(self.states) - 1)]
        return {
            "serviceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/web",
            "serviceName": "web",
            "status": "ACTIVE",
            "taskDefinition": TD,
            "desiredCount": 2,
            "runningCount": running,
            "pendingCount": 2 - running,
            "deploymentConfiguration": {
                "deploymentCircuitBreaker": {"enable": True, "rollback": True}
            },
            "deployments": [
                {
                    "id": "ecs-svc/42",
                    "status": "PRIMARY",
                    "taskDefinition": TD,
                    "desiredCount": 2,
                    "runningCount": running,
                    "pendingCount": 2 - running,
                    "failedTasks": 0,
                    "rolloutState": state,
                    "rolloutStateReason": reason,
                    "createdAt": 1796160000,
                    "updatedAt": 1796160000,
                }  # fmt: skip
            ],
            "events": [],
        }

    def answer(self, op: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if op == "ListServices":
            return 200, {"serviceArns": [self.service()["serviceArn"]]}
        if op == "DescribeServices":
            found = self.service()
            self.step += 1
            return 200, {"services": [found], "failures": []}
        if op == "UpdateService":
            self.updates.append(body)
            return 200, {"service": self.service()}
        return 400, {"__type": "UnknownOperationException", "message": op}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def wire_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDQUORUMTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "quorum-test-secret-value")


@pytest.fixture
def completing(wire_env: None) -> Iterator[EcsWire]:
    wire = EcsWire([
        ("COMPLETED", 2, "ECS deployment ecs-svc/41 completed."),  # what the lookup sees
        ("IN_PROGRESS", 0, ""), ("IN_PROGRESS", 1, ""),
        ("COMPLETED", 2, "ECS deployment ecs-svc/42 completed."),
    ])  # fmt: skip
    yield wire
    wire.close()


def test_restart_follows_the_deployment_until_completed(
    completing: EcsWire, tmp_path: Path, capsys
) -> None:
    # The wire speaks ECS alone: no IAM to ask first.
    config = ecs_config(tmp_path, completing.url, environments='{ production = "prod" }',
                        access_check="false")  # fmt: skip
    assert main(["restart", "web", "--env", "production", "--config", str(config)]) == 0
    captured = capsys.readouterr()
    assert completing.updates == [{"cluster": "prod", "service": "web", "forceNewDeployment": True}]
    # The progress lines name each state the deployment went through.
    steps = [line for line in captured.err.splitlines() if "ecs-svc/42" in line]
    assert any("IN_PROGRESS" in s for s in steps) and "COMPLETED" in steps[-1]
    assert "deployment ecs-svc/42 COMPLETED" in captured.out


def test_a_failed_rollout_fails_the_action_with_the_reason(
    wire_env: None, tmp_path: Path, capsys
) -> None:
    reason = "ECS deployment circuit breaker: tasks failed to start."
    wire = EcsWire([("COMPLETED", 2, ""), ("IN_PROGRESS", 0, ""), ("FAILED", 0, reason)])
    try:
        config = ecs_config(tmp_path, wire.url, environments='{ production = "prod" }',
                            access_check="false")  # fmt: skip
        assert main(["restart", "web", "--env", "production", "--config", str(config)]) == 1
        assert f"deployment ecs-svc/42 FAILED: {reason}" in capsys.readouterr().out
        outcomes = audit(config, capsys, "restart")
        assert outcomes[-1][0] == "failed" and reason in outcomes[-1][1]
    finally:
        wire.close()
