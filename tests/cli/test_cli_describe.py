"""`quorum describe SERVICE --env ENV [--json]` on the sandbox and against the emulator."""

from __future__ import annotations

import json
import re
from pathlib import Path

import kmock
import pytest

from console.cli.main import main
from tests.k8s_fixtures import (
    Cluster,
    allow_everything,
    cluster_fixture,  # noqa: F401 - the `cluster` fixture
    event,
    service,
)
from tests.providers.test_kubernetes_cli import write_config

TARGET_KEYS = {
    "service", "environment", "provider", "target", "revision", "status",
    "ready", "desired", "updated_at", "serving", "platforms",
}  # fmt: skip
POD_KEYS = {"name", "phase", "ready", "restarts", "reason", "containers", "node", "started_at"}
EVENT_KEYS = {"at", "type", "reason", "message", "count", "source"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def describe_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code = main(["describe", *args, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_json_shape_on_the_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    doc = describe_json(capsys, "api", "--env", "staging", "--sandbox")
    assert set(doc) == {"target", "pods", "events"}
    target = doc["target"]
    assert set(target) == TARGET_KEYS
    assert (target["serving"], target["platforms"]) == ("", [])  # not a site
    assert (target["service"], target["environment"]) == ("api", "staging")
    assert ISO.match(target["updated_at"])
    assert doc["pods"] and doc["events"]
    for pod in doc["pods"]:
        assert set(pod) == POD_KEYS
        assert isinstance(pod["restarts"], int) and isinstance(pod["ready"], bool)
        assert pod["containers"] == ["api"]
        assert pod["started_at"] is None or ISO.match(pod["started_at"])
    for item in doc["events"]:
        assert set(item) == EVENT_KEYS
        assert item["type"] in {"Normal", "Warning"}
        assert item["at"] is None or ISO.match(item["at"])
        assert isinstance(item["count"], int)


def test_text_is_the_target_line_then_pods_then_events(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["describe", "api", "--env", "staging", "--sandbox"]) == 0
    blocks = capsys.readouterr().out.split("\n\n")
    assert len(blocks) == 3
    target, pods, events = (b.strip().splitlines() for b in blocks)
    assert target[0].split()[:3] == ["api@staging", "sim-k8s", "deployment/api"]
    assert pods[0].split() == ["POD", "PHASE", "READY", "RESTARTS", "REASON", "NODE", "STARTED"]
    assert len(pods) > 1 and all(line.startswith("api-") for line in pods[1:])
    assert events[0].split() == ["AT", "TYPE", "REASON", "MESSAGE", "COUNT", "SOURCE"]
    assert any(" Deployed " in line for line in events[1:])


def test_an_unknown_service_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "nope", "--env", "staging", "--sandbox"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no service 'nope' in environment 'staging'" in err


def _crash_looping(cluster: Cluster) -> None:
    cluster.react(kmock.resource("authorization.k8s.io", "v1", "selfsubjectaccessreviews"),
                  allow_everything(cluster))  # fmt: skip
    objs = service("api", "staging", "registry.example/api:3.0", pods=1,
                   waiting="CrashLoopBackOff", restarts=2, ready=0)  # fmt: skip
    pod = objs[-1]
    cluster.add(*objs, event(pod, "BackOff", "Back-off restarting failed container",
                             type="Warning"))  # fmt: skip


def test_a_crash_looping_pod_shows_its_reason_and_restarts(
    cluster: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _crash_looping(cluster)
    config = str(write_config(cluster, tmp_path))
    doc = describe_json(capsys, "api", "--env", "staging", "--config", config)
    assert doc["target"]["provider"] == "main-cluster"
    assert doc["target"]["status"] == "degraded"
    [pod] = doc["pods"]
    assert (pod["reason"], pod["restarts"], pod["ready"]) == ("CrashLoopBackOff", 2, False)
    backoff = [e for e in doc["events"] if e["reason"] == "BackOff"]
    assert backoff and backoff[0]["type"] == "Warning"
    assert backoff[0]["message"] == "Back-off restarting failed container"

    assert main(["describe", "api", "--env", "staging", "--config", config]) == 0
    lines = capsys.readouterr().out.splitlines()
    row = next(line for line in lines if line.startswith(pod["name"]))
    assert row.split()[2:5] == ["no", "2", "CrashLoopBackOff"]


def test_a_failing_backend_is_one_line_and_exit_one(
    cluster: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _crash_looping(cluster)
    cluster.react(kmock.resource("", "v1", "events"), lambda r: kmock.KubernetesError(status=500))
    config = str(write_config(cluster, tmp_path))
    code = main(["describe", "api", "--env", "staging", "--config", config])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err.startswith("quorum: ") and captured.err.count("\n") == 1
    assert "events of deployment/api" in captured.err
    assert "Traceback" not in captured.err
