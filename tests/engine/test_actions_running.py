"""A running action is not a crashed one: its owner (host, pid, start) is recorded, and
`actions resolve` refuses it while that process lives, unless forced."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from console.cli.main import main
from console.domain.model import TargetRef, utcnow
from console.engine.owner import this_process
from console.store.audit import AuditLog
from console.store.claims import Claim, ClaimStore
from tests.paths import ROOT


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Staging deploys run a script that holds until the test creates `release`."""
    script = tmp_path / "deploy.sh"
    script.write_text(
        textwrap.dedent(
            f"""\
            #!/bin/sh
            touch "{tmp_path / "started"}"
            while [ ! -f "{tmp_path / "release"}" ]; do sleep 0.05; done
            echo "deployed $QUORUM_REVISION"
            """
        )
    )
    script.chmod(0o755)
    config = tmp_path / "quorum.toml"
    config.write_text(
        f'[team]\nmembers = ["alice", "bob"]\n\n[audit]\npath = "{tmp_path / "audit.db"}"\n\n'
        f'[policy.staging]\ndeploy_command = "{script}"\n\n'
        '[[providers]]\nname = "demo"\nkind = "sandbox"\nplatform = "kubernetes"\n'
    )
    monkeypatch.setenv("QUORUM_ACT_AS", "alice")
    return config


def start_deploy(team: Path) -> subprocess.Popen[str]:
    argv = ["--config", str(team), "deploy", "api", "--env", "staging"]
    argv += ["--revision", "v9", "--key", "K1"]
    code = f"import sys; from console.cli.main import main; sys.exit(main({argv!r}))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = team.parent / "started"
    while not started.exists():  # the deploy command is running
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    return proc


def resolve(team: Path, *extra: str) -> int:
    return main(["--config", str(team), "actions", "resolve", "K1", "--outcome", "failed",
                 *extra])  # fmt: skip


def test_a_running_deploy_cannot_be_resolved_by_someone_else(
    team: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    proc = start_deploy(team)
    try:
        assert main(["--config", str(team), "actions", "incomplete", "--json"]) == 0
        (listed,) = json.loads(capsys.readouterr().out)
        assert listed["owner"] == {"host": socket.gethostname(), "pid": proc.pid}
        assert listed["running"] is True
        assert main(["--config", str(team), "actions", "incomplete"]) == 0
        table = capsys.readouterr().out
        assert f"pid {proc.pid} on {socket.gethostname()} (running)" in table
        monkeypatch.setenv("QUORUM_ACT_AS", "bob")
        assert resolve(team) == 3
        err = capsys.readouterr().err
        assert err.startswith(f"quorum: action K1 is still running (pid {proc.pid} on ")
        assert err.count("\n") == 1 and "resolve with --force" in err
    finally:
        (team.parent / "release").touch()
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "deploy finished" in out
    log = AuditLog(team.parent / "audit.db")
    try:
        assert [(r.who, r.outcome) for r in log.by_key("K1")] == [
            ("alice", "started"),
            ("alice", "finished"),
        ]
        assert log.verify().ok
    finally:
        log.close()


def test_forced_while_running_the_real_end_is_still_recorded_and_said(
    team: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    proc = start_deploy(team)
    try:
        monkeypatch.setenv("QUORUM_ACT_AS", "bob")
        assert resolve(team, "--force", "--comment", "looked stuck") == 0
    finally:
        (team.parent / "release").touch()
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "quorum: warning: it finished, but someone resolved it by hand while it ran" in err
    log = AuditLog(team.parent / "audit.db")
    try:
        assert [(r.who, r.outcome) for r in log.by_key("K1")] == [
            ("alice", "started"),
            ("bob", "failed"),
            ("alice", "finished"),
        ]
    finally:
        log.close()


def test_a_reused_pid_is_not_taken_for_the_owner(
    team: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crashed action's pid now belongs to another process (this one): its start time
    differs, so the action is crashed, not running, and may be resolved unforced."""
    me = this_process()
    assert me.start  # Linux: /proc/PID/stat is there to read
    ref = TargetRef("demo", "api", "staging", "deployment/api")
    store = ClaimStore(team.parent / "audit.db")
    for key, start in (("K1", str(int(me.start) - 1)), ("K2", me.start)):
        store.claim(Claim(key, "deploy", "alice", ref, "v9", None, utcnow(), owner_host=me.host,
                          owner_pid=me.pid, owner_start=start))  # fmt: skip
    store.close()
    assert main(["--config", str(team), "actions", "incomplete", "--json"]) == 0
    listed = {c["key"]: c["running"] for c in json.loads(capsys.readouterr().out)}
    assert listed == {"K1": False, "K2": True}
    monkeypatch.setenv("QUORUM_ACT_AS", "bob")
    assert resolve(team) == 0
    resolve_k2 = ["actions", "resolve", "K2", "--outcome", "failed"]
    assert main(["--config", str(team), *resolve_k2]) == 3
    assert "action K2 is still running" in capsys.readouterr().err
