"""`quorum status --json`, `quorum rollback` and `quorum logs` against the emulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import kmock
import pytest

from console.cli.main import main
from tests.k8s_fixtures import (
    Cluster,
    allow_everything,
    at,
    cluster_fixture,  # noqa: F401 - the `cluster` fixture
    service,
)


def write_config(cluster: Cluster, tmp_path: Path) -> Path:
    kubeconfig = cluster.kubeconfig(tmp_path / "kubeconfig", contexts=("prod", "stage"))
    config = tmp_path / "quorum.toml"
    config.write_text(
        f"""
[team]
name = "collective"

[policy.production]
min_approvals = 2

[[providers]]
name = "main-cluster"
kind = "kubernetes"
context = "prod"
kubeconfig = "{kubeconfig}"
environments = {{ production = "production", staging = "staging" }}
"""
    )
    return config


def seeded(cluster: Cluster) -> None:
    cluster.react(kmock.resource("authorization.k8s.io", "v1", "selfsubjectaccessreviews"),
                  allow_everything(cluster))  # fmt: skip
    cluster.add(
        *service("web", "production", "registry.example/web:1.2",
                 history=("registry.example/web:1.0", "registry.example/web:1.1")),
        *service("api", "staging", "registry.example/api:3.0", pods=1,
                 waiting="CrashLoopBackOff", restarts=2, ready=0),
    )  # fmt: skip


def test_status_json_reads_the_cluster(cluster: Cluster, tmp_path: Path, capsys) -> None:
    seeded(cluster)
    config = write_config(cluster, tmp_path)
    assert main(["status", "--json", "--config", str(config)]) == 0
    rows = {(r["service"], r["environment"]): r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == {("web", "production"), ("api", "staging")}
    web = rows["web", "production"]
    assert (web["provider"], web["target"], web["revision"], web["status"]) == (
        "main-cluster", "deployment/web", "1.2", "ready",
    )  # fmt: skip
    assert (web["ready"], web["desired"], web["stale"]) == (3, 3, False)
    assert rows["api", "staging"]["status"] == "degraded"


def test_rollback_from_the_command_line(cluster: Cluster, tmp_path: Path, capsys) -> None:
    seeded(cluster)
    config = write_config(cluster, tmp_path)
    code = main(["rollback", "web", "--env", "production", "--config", str(config)])
    out = capsys.readouterr()
    assert code == 0, out.err
    image = cluster.get("deployment", "production", "web")["spec"]["template"]["spec"][
        "containers"
    ][0]["image"]
    assert image == "registry.example/web:1.1"
    code = main(["rollback", "web", "--env", "production", "--to", "1", "--config", str(config)])
    assert code == 0, capsys.readouterr().err
    image = cluster.get("deployment", "production", "web")["spec"]["template"]["spec"][
        "containers"
    ][0]["image"]
    assert image == "registry.example/web:1.0"


def test_pause_is_the_brake_anyone_pulls_and_resume_follows_the_policy(
    cluster: Cluster, tmp_path: Path, capsys
) -> None:
    seeded(cluster)
    config = write_config(cluster, tmp_path)
    common = ["web", "--env", "production", "--config", str(config)]
    assert main(["pause", *common]) == 0, capsys.readouterr().err
    assert cluster.get("deployment", "production", "web")["spec"]["paused"] is True
    assert main(["resume", *common]) == 3
    assert "production needs consensus" in capsys.readouterr().err
    assert cluster.get("deployment", "production", "web")["spec"]["paused"] is True
    assert main(["audit", "tail", "--json", "--config", str(config)]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [(r["action"], r["outcome"]) for r in records if r["action"] == "pause"] == [
        ("pause", "started"),
        ("pause", "finished"),
    ]


def test_rollback_to_an_unknown_revision_is_one_line(
    cluster: Cluster, tmp_path: Path, capsys
) -> None:
    seeded(cluster)
    config = write_config(cluster, tmp_path)
    code = main(["rollback", "web", "--env", "production", "--to", "9", "--config", str(config)])
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert code == 1
    assert "refused: unable to find specified revision 9 in history" in said
    assert "Traceback" not in said
    assert cluster.count(kmock.method.PATCH) == 0


def test_logs_command_merges_the_pods(cluster: Cluster, tmp_path: Path, capsys) -> None:
    seeded(cluster)
    config = write_config(cluster, tmp_path)
    start = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def reply(request):
        index = int(request.name[-1])
        line = f"{at(start.replace(second=index))} hello from {request.name}\x1b]0;owned\x07\n"
        return line.encode()

    cluster.react((kmock.resource("", "v1", "pods"), kmock.subresource("log")), reply)
    code = main(["logs", "web", "--env", "production", "--config", str(config)])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3
    assert all("\x1b" not in line for line in lines)
    names = [line.split("hello from ")[1].split("␛")[0] for line in lines]
    assert names == sorted(names)


@pytest.mark.parametrize("extra", [["--readonly"]])
def test_readonly_cli_never_patches(cluster: Cluster, tmp_path: Path, capsys, extra) -> None:
    seeded(cluster)
    config = write_config(cluster, tmp_path)
    code = main(["rollback", "web", "--env", "production", "--config", str(config), *extra])
    assert code != 0
    assert cluster.count(kmock.method.PATCH) == 0
