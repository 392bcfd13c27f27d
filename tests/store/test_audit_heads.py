"""Each command remembers the audit head it saw; a log rebuilt behind its back is reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli.main import main
from console.store.audit import AuditLog
from tests.paths import FORGER


@pytest.fixture
def log(isolated_quorum: Path) -> Path:
    path = isolated_quorum / "sandbox" / "audit.db"
    with AuditLog(path) as audit:
        for who in ("alice", "bob", "carol"):
            audit.append(who=who, action="vote", target="api", outcome="approve")
    return path


def test_a_rebuilt_log_is_reported_at_the_next_start_and_by_verify(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--sandbox", "audit", "verify"]) == 0  # seen: record 3
    capsys.readouterr()
    # Record 2 removed and the chain rebuilt after it: consistent again, one record short.
    subprocess.run([sys.executable, str(FORGER), str(log), "delete-audit", "2"], check=True)
    with AuditLog(log) as audit:
        assert audit.verify().ok
    assert main(["--sandbox", "approvals"]) == 0
    err = capsys.readouterr().err
    assert "quorum: warning: the audit log" in err
    assert "ends at record 2, but this account saw record 3 earlier" in err
    assert main(["--sandbox", "audit", "verify", "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is False and "this account saw record 3" in result["reason"]
    # The memory is not overwritten by the rebuilt log: the warning stays.
    assert main(["--sandbox", "approvals"]) == 0
    assert "this account saw record 3" in capsys.readouterr().err


def test_verify_against_a_head_kept_elsewhere(
    log: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert main(["--sandbox", "audit", "tail", "-n", "2", "--json"]) == 0
    kept = json.loads(capsys.readouterr().out)[0]["hash"]  # record 2's hash, kept in a ticket
    assert main(["--sandbox", "audit", "verify", "--head", kept]) == 0
    assert capsys.readouterr().out == "ok: 3 records, chain intact\n"
    subprocess.run([sys.executable, str(FORGER), str(log), "delete-audit", "1"], check=True)
    monkeypatch.setenv("QUORUM_STATE_DIR", str(tmp_path / "elsewhere"))  # no memory of it
    assert main(["--sandbox", "audit", "verify"]) == 0  # a consistent chain of 2
    capsys.readouterr()
    assert main(["--sandbox", "audit", "verify", "--head", kept]) == 1
    assert capsys.readouterr().out.startswith(f"failed: the head {kept} is not in the log")
