"""A process killed between "started" and "finished", and the deploy command through the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from console.cli.main import main
from console.store.audit import AuditLog
from tests.paths import ROOT


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config whose staging deploys go through a script that logs each run."""
    script = tmp_path / "deploy.sh"
    script.write_text(
        textwrap.dedent(
            f"""\
            #!/bin/sh
            echo "$QUORUM_REVISION $COLLECTIVE_CONSENSUS" >> "{tmp_path / "runs.txt"}"
            printf 'rolling %s to %s \\033]0;pwned\\007\\n' "$QUORUM_SERVICE" "$QUORUM_REVISION"
            if [ "$QUORUM_REVISION" = "slow" ]; then sleep 120; fi
            """
        )
    )
    script.chmod(0o755)
    config = tmp_path / "quorum.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [team]
            name = "crash"
            members = ["alice", "bob"]

            [audit]
            path = "{tmp_path / "audit.db"}"

            [policy.staging]
            min_approvals = 0
            deploy_command = "{script} full staging"

            [[providers]]
            name = "demo"
            kind = "sandbox"
            platform = "kubernetes"
            """
        )
    )
    monkeypatch.setenv("QUORUM_ACT_AS", "alice")
    return config


def runs(config: Path) -> list[str]:
    path = config.parent / "runs.txt"
    return path.read_text().splitlines() if path.exists() else []


def deploy(config: Path, revision: str, key: str) -> int:
    return main(
        ["--config", str(config), "deploy", "api", "--env", "staging", "--revision", revision]
        + ["--key", key]
    )


def test_deploy_command_output_is_streamed_inert_with_the_consensus_environment(
    team: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy(team, "v5", "k-ok") == 0
    out = capsys.readouterr().out
    assert "rolling api to v5 ␛]0;pwned␇" in out and "\x1b" not in out
    assert runs(team) == ["v5 true"]


def test_killed_mid_deploy_is_listed_and_never_runs_twice(
    team: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--config", str(team), "deploy", "api", "--env", "staging"]
    argv += ["--revision", "slow", "--key", "K1"]
    code = f"import sys; from console.cli.main import main; sys.exit(main({argv!r}))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ},
        start_new_session=True,  # its own group, so the kill takes the script's sleep too
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not runs(team):  # the deploy command is running: the provider call is in flight
            assert proc.poll() is None, "the deploy ended before it could be killed"
            assert time.monotonic() < deadline, "the deploy command never started"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    assert main(["--config", str(team), "actions", "incomplete", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(a["key"], a["action"], a["revision"], a["outcome"]) for a in listed] == [
        ("K1", "deploy", "slow", None)
    ]

    assert deploy(team, "slow", "K1") == 1
    assert "never finished" in capsys.readouterr().err
    assert runs(team) == ["slow true"]

    resolve = ["--config", str(team), "actions", "resolve", "K1", "--outcome", "failed"]
    assert main([*resolve, "--comment", "pods never rolled"]) == 0
    assert capsys.readouterr().out == "K1: deploy recorded as failed\n"
    assert main(["--config", str(team), "actions", "incomplete", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(resolve) == 2  # an outcome is recorded once
    assert "already has its outcome" in capsys.readouterr().err

    assert deploy(team, "slow", "K1") == 1
    assert "already ran with key K1: failed" in capsys.readouterr().out
    assert runs(team) == ["slow true"]

    log = AuditLog(team.parent / "audit.db")
    trail = [(r.who, r.action, r.outcome, r.comment) for r in log.by_key("K1")]
    assert log.verify().ok
    log.close()
    assert trail[0][:3] == ("alice", "deploy", "started")
    assert trail[1][:3] == ("alice", "deploy", "failed")
    assert "resolved by hand: pods never rolled" in trail[1][3]
    assert len(trail) == 2
