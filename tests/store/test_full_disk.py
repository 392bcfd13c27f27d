"""A full disk under the ledger, on a real size-limited filesystem (a small tmpfs).

The record of what happened is never wrong: an action is refused before it starts
when there is no room to record it, an action that ran says so even when its end
could not be written, the team is still told, and SQLite's own error is the one
shown (never `cannot rollback - no transaction is active`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from console.cli.main import main
from console.domain.model import TargetRef, utcnow
from console.store.audit import AuditError, AuditLog
from console.store.claims import Claim, ClaimStore
from console.store.files import MIN_FREE_BYTES

DISK_BYTES = 4 << 20


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs, mounted for this test only."""
    if os.geteuid() != 0:
        print("skipped: mounting a small tmpfs needs root")
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"skipped: cannot mount a tmpfs here: {done.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int = 0) -> Path:
    """Writes a filler file until the disk is full, then frees `leave` bytes of it."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (65536, 4096):  # then the last bytes, one page at a time
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * size):
                    pass
    finally:
        os.close(fd)
    if leave:
        size = filler.stat().st_size
        os.truncate(filler, max(0, size - leave))
    return filler


def team(tmp_path: Path, disk: Path, *, hook: str = "", command: str = "") -> Path:
    config = tmp_path / "team.toml"
    text = f'[team]\nmembers = ["alice"]\n\n[audit]\npath = "{disk / "audit.db"}"\n\n'
    if command:
        text += f'[policy.staging]\ndeploy_command = "{command}"\n\n'
    text += '[[providers]]\nname = "demo"\nkind = "sandbox"\nplatform = "kubernetes"\n'
    if hook:
        text += '\n[[notify]]\nkind = "webhook"\nurl_env = "HOOK"\ntimeout = 5\n'
    config.write_text(text)
    return config


def records(disk: Path) -> list[tuple[str, str]]:
    with AuditLog(disk / "audit.db") as log:
        assert log.verify().ok
        return [(r.action, r.outcome) for r in log.tail(1000)]


def test_a_failed_commit_in_a_store_transaction_shows_the_real_error(disk: Path) -> None:
    claims = ClaimStore(disk / "audit.db")
    fill(disk)
    ref = TargetRef("demo", "api", "staging", "deployment/api")
    with pytest.raises(sqlite3.Error) as failed:  # noqa: PT012 - claims until the disk is full
        for n in range(2000):
            record = Claim(f"K{n}", "deploy", "alice", ref, "x" * 3000, None, utcnow())
            claims.claim(record)
    claims.close()
    assert str(failed.value) == "database or disk is full"


def test_a_failed_commit_shows_the_real_error(disk: Path) -> None:
    log = AuditLog(disk / "audit.db")
    log.append(who="alice", action="vote", comment="first")
    fill(disk)
    written = 1
    with pytest.raises(AuditError) as failed:  # noqa: PT012 - appends until the disk is full
        for _ in range(2000):
            log.append(who="alice", action="vote", comment="x" * 3000)
            written += 1
    log.close()
    message = str(failed.value)
    assert "database or disk is full" in message
    assert "cannot rollback" not in message
    (disk / "filler").unlink()
    assert len(records(disk)) == written  # the failed record left nothing behind


def test_an_action_is_not_started_without_room_to_record_it(
    disk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("QUORUM_ACT_AS", "alice")
    config = team(tmp_path, disk)
    assert main(["--config", str(config), "deploy", "api", "--env", "staging",
                 "--revision", "v7"]) == 0  # fmt: skip
    capsys.readouterr()
    fill(disk, leave=MIN_FREE_BYTES // 2)
    argv = ["--config", str(config), "deploy", "api", "--env", "staging", "--revision", "v8"]
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("quorum: only ") and err.count("\n") == 1
    assert f"free beside {disk / 'audit.db'}: an action is not started" in err
    (disk / "filler").unlink()
    assert records(disk) == [("deploy", "started"), ("deploy", "finished")]
    assert main(["--config", str(config), "actions", "incomplete", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["--config", str(config), "status", "--json"]) == 0
    (api,) = [r for r in json.loads(capsys.readouterr().out) if r["service"] == "api"
              and r["environment"] == "staging"]  # fmt: skip
    assert api["revision"] == "v7"


def test_a_deploy_that_fills_the_disk_still_says_how_it_ended_and_tells_the_team(
    disk: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    httpserver: HTTPServer,
) -> None:
    monkeypatch.setenv("QUORUM_ACT_AS", "alice")
    httpserver.expect_request("/hook").respond_with_data("ok")
    monkeypatch.setenv("HOOK", httpserver.url_for("/hook"))
    script = tmp_path / "deploy.sh"
    # The deploy itself fills the disk the ledger is on (a build cache, a core dump...).
    script.write_text(
        f'#!/bin/sh\ndd if=/dev/zero of="{disk / "filler"}" bs=64k 2>/dev/null\n'
        f'dd if=/dev/zero of="{disk / "filler2"}" bs=4k 2>/dev/null\necho rolled out\n'
    )
    script.chmod(0o755)
    config = team(tmp_path, disk, hook="HOOK", command=str(script))
    argv = ["--config", str(config), "deploy", "api", "--env", "staging"]
    argv += ["--revision", "v8", "--key", "K1"]
    code = f"import sys; from console.cli.main import main; sys.exit(main({argv!r}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    out, err = done.stdout, done.stderr
    assert done.returncode == 1, err
    assert "deploy finished: deploy command finished (exit 0) for v8 (key K1)" in out
    assert "Traceback" not in err and "cannot rollback" not in err
    assert "record that it finished" in err and "database or disk is full" in err
    # The team heard how it really ended.
    (request,) = httpserver.log
    body = request[0].get_json()
    assert body["title"] == "deploy api@staging: finished"
    assert "record that it finished" in body["text"]

    (disk / "filler").unlink()
    (disk / "filler2").unlink(missing_ok=True)
    assert main(["--config", str(config), "actions", "incomplete", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    if listed:  # the claim could not take it either: recorded now that there is room
        assert [a["key"] for a in listed] == ["K1"]
        assert "stays listed as incomplete" in err
        resolve = ["actions", "resolve", "K1", "--outcome", "finished"]
        assert main(["--config", str(config), *resolve]) == 0
        capsys.readouterr()
    else:  # the claim took it: the log says where the outcome is kept
        assert "the outcome is kept in the action's claim (K1)" in err
    trail = records(disk)
    assert trail[0] == ("deploy", "started") and trail[-1][1] == "finished"


def test_a_start_that_cannot_be_recorded_leaves_no_claim_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The "started" record fails after the claim was taken (here a log whose chain head
    was deleted, which Quorum refuses to extend): nothing ran, so nothing is incomplete."""
    monkeypatch.setenv("QUORUM_ACT_AS", "alice")
    config = team(tmp_path, tmp_path)
    with AuditLog(tmp_path / "audit.db") as log:
        log.append(who="alice", action="vote")
    conn = sqlite3.connect(tmp_path / "audit.db")
    conn.executescript("DROP TRIGGER audit_head_no_delete; DELETE FROM audit_head;")
    conn.close()
    argv = ["--config", str(config), "deploy", "api", "--env", "staging", "--revision", "v8"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("quorum: deploy not started: audit log ") and err.count("\n") == 1
    assert main(["--config", str(config), "actions", "incomplete", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_fill_reaches_a_full_disk(disk: Path) -> None:
    """The helper really fills the filesystem, so the tests above test a full disk."""
    fill(disk)
    with pytest.raises(OSError) as full:
        (disk / "more").write_bytes(b"\0" * 65536)
    assert full.value.errno == errno.ENOSPC
