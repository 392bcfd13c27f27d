"""A reader that leaves early (`quorum status | head -1`) ends a command quietly, as it
ends any Unix tool: no traceback, exit 0 or 141 (128 + SIGPIPE, see the README)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.store.audit import AuditLog

READERS = [
    ["status"],
    ["status", "--json"],
    ["audit", "tail", "-n", "3000"],
    ["audit", "tail", "-n", "3000", "--json"],
    ["audit", "export"],
    ["audit", "verify"],
    ["rotation"],
    ["rotation", "--json"],
    ["rotation", "schedule", "--days", "400"],
    ["rotation", "schedule", "--json"],
    ["rotation", "ics", "--months", "24"],
    ["approvals"],
    ["approvals", "--json"],
    ["actions", "incomplete", "--json"],
    ["alerts"],
    ["alerts", "--json"],
    ["rotation", "swap", "list"],
    ["logs", "api", "--env", "staging", "--tail", "500"],
    ["describe", "api", "--env", "staging"],
    ["config", "check"],
    ["propose", "deploy", "api", "--env", "production", "--revision", "v9"],
    ["--help"],
]


@pytest.fixture
def busy_log(isolated_quorum: Path) -> None:
    """Enough audit records that `audit tail` writes far more than a pipe holds."""
    with AuditLog(isolated_quorum / "sandbox" / "audit.db") as log:
        for n in range(3000):
            log.append(who="alice", action="vote", comment=f"record {n} " + "x" * 60)


def quorum(*argv: str) -> list[str]:
    return [sys.executable, "-m", "console", *argv, "--sandbox"]


@pytest.mark.parametrize("argv", READERS, ids=" ".join)
def test_piped_into_head_it_ends_quietly(argv: list[str], busy_log: None) -> None:
    command = " ".join(f"'{part}'" for part in quorum(*argv))
    done = subprocess.run(
        ["bash", "-c", f'{command} | head -1; echo "exit=${{PIPESTATUS[0]}}" >&2'],
        capture_output=True,
        text=True,
        env={**os.environ, "QUORUM_SANDBOX_TEAMMATES": "off"},
        check=False,
    )
    assert done.stdout.count("\n") <= 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
    assert done.stderr.splitlines()[-1] in ("exit=0", "exit=141"), done.stderr


@pytest.mark.parametrize("argv", READERS, ids=" ".join)
def test_a_reader_gone_before_the_first_line_gives_141(argv: list[str], busy_log: None) -> None:
    proc = subprocess.Popen(
        quorum(*argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "QUORUM_SANDBOX_TEAMMATES": "off"},
    )
    assert proc.stdout is not None
    proc.stdout.close()  # the reader leaves before quorum has written anything
    _, err = proc.communicate(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception" not in err
    # argparse prints --help itself and ends with 0 whatever became of the text.
    assert proc.returncode in ((0, 141) if argv == ["--help"] else (141,)), err


# Changes whose reader is gone: the change is made and recorded with how it really ended,
# whatever became of the line that would have said so.
SPAN = ["--from", "2030-01-01", "--to", "2030-01-02"]
WRITERS = [
    (["deploy", "api", "--env", "staging", "--revision", "v9"], ("deploy", "finished")),
    (["rollback", "api", "--env", "staging"], ("rollback", "finished")),
    (["scale", "api", "--env", "staging", "--replicas", "3"], ("scale", "finished")),
    (["pause", "api", "--env", "staging"], ("pause", "finished")),
    (["vote", "1", "approve"], ("vote", "approve")),
    (["override", "1", "--reason", "outage"], ("deploy", "finished")),
    (
        ["rotation", "override", "on-call", "--who", "bob", "--reason", "cover", *SPAN],
        ("rotation.override", "recorded"),
    ),
]


@pytest.mark.parametrize(("argv", "recorded"), WRITERS, ids=lambda v: " ".join(v[:3]))
def test_a_change_whose_reader_is_gone_is_made_and_recorded(
    argv: list[str], recorded: tuple[str, str], isolated_quorum: Path
) -> None:
    env = {**os.environ, "QUORUM_SANDBOX_TEAMMATES": "off", "QUORUM_ACT_AS": "alice"}
    opened = subprocess.run(
        quorum("propose", "deploy", "api", "--env", "production", "--revision", "v9"),
        capture_output=True,
        env={**env, "QUORUM_ACT_AS": "bob"},
        check=True,
    )
    assert opened.returncode == 0
    proc = subprocess.Popen(
        quorum(*argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert proc.returncode == 141, err
    with AuditLog(isolated_quorum / "sandbox" / "audit.db") as log:
        assert log.verify().ok
        assert (log.tail(1)[0].action, log.tail(1)[0].outcome) == recorded
