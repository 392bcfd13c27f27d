"""A ledger on a filesystem mounted read-only (a snapshot, a recovery mount, a full
disk the kernel turned read-only): every command says so in one line, naming the
mount and how to make it writable, instead of a chmod that cannot help."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.cli.main import main


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A team config whose audit log is on a small tmpfs, remounted read-only after a
    first proposal was recorded."""
    if os.geteuid() != 0:
        print("skipped: mounting a tmpfs needs root")
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"skipped: cannot mount a tmpfs here: {done.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        config = tmp_path / "team.toml"
        config.write_text(
            f'[team]\nmembers = ["alice", "bob"]\n\n[audit]\npath = "{mount / "team" / "audit.db"}"'
            '\n\n[policy.production]\nmin_approvals = 1\n\n'
            '[[providers]]\nname = "sim"\nkind = "sandbox"\nplatform = "kubernetes"\n'
        )  # fmt: skip
        yield mount, config
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize(
    "argv",
    [
        ["vote", "1", "approve"],
        ["propose", "deploy", "web", "--env", "production", "--revision", "v3"],
        ["deploy", "web", "--env", "staging", "--revision", "v3"],
        ["approvals"],
        ["audit", "tail"],
        ["rotation"],
        ["actions", "incomplete"],
    ],
)
def test_a_ledger_on_a_read_only_mount_is_one_line_naming_the_mount(
    ledger: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
) -> None:
    mount, config = ledger
    monkeypatch.setenv("QUORUM_ACT_AS", "alice")
    assert main(["propose", "deploy", "api", "--env", "production", "--revision", "v2",
                 "--config", str(config)]) == 0  # fmt: skip
    capsys.readouterr()
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
    monkeypatch.setenv("QUORUM_ACT_AS", "bob")
    code = main([*argv, "--config", str(config)])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err == (
        f"quorum: {mount / 'team'} is on a read-only filesystem, so no account can write it; "
        f"run `mount -o remount,rw {mount}` (as root) or move the ledger to a writable folder "
        "([audit] path or $QUORUM_DATA_DIR)\n"
    )
