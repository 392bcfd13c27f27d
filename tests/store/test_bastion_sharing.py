"""Two real OS accounts sharing one audit log on a bastion, as a team sets it up.

The suite creates the accounts (and their group) when it runs as root, and runs
Quorum as each of them with the system's Python. The checkout and its virtual
environment may sit where other accounts cannot enter (under /root): they are then
bind-mounted read-only under a temporary folder for the test, and /root is never
opened up.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.paths import ROOT

SYSTEM_PYTHON = "/usr/bin/python3"


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "creating OS accounts needs root"
    if not all(shutil.which(t) for t in ("useradd", "groupadd", "setpriv", "mount")):
        return "useradd, groupadd, setpriv and mount are needed"
    if not Path(SYSTEM_PYTHON).exists():
        return f"no {SYSTEM_PYTHON} for the test accounts"
    done = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    # The virtual environment's compiled extensions need the same minor version.
    if done.stdout.strip() != str(sys.version_info[:2]):
        return f"{SYSTEM_PYTHON} is not Python {sys.version_info[0]}.{sys.version_info[1]}"
    return None


REASON = _why_not()
if REASON:
    print(f"skipped test_bastion_sharing: {REASON}")
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")


@dataclass
class Bastion:
    group: str
    alice: str
    bob: str
    pythonpath: str
    shared: Path  # a setgid team folder
    home: Path

    def run(self, who: str, *argv: str, umask: str = "022") -> subprocess.CompletedProcess[str]:
        """`quorum ARGV` as the account `who`, with its own data directory."""
        data = self.home / who / "data"
        env = [
            "env",
            "-i",
            "PATH=/usr/bin:/bin",
            f"HOME={self.home / who}",
            f"PYTHONPATH={self.pythonpath}",
            f"QUORUM_DATA_DIR={data}",
            "QUORUM_SANDBOX_TEAMMATES=off",
        ]
        command = [
            "setpriv",
            f"--reuid={who}",
            f"--regid={self.group}",
            "--init-groups",
            *env,
            "sh",
            "-c",
            f'umask {umask}; exec "$@"',
            "sh",
            SYSTEM_PYTHON,
            "-m",
            "console",
            *argv,
        ]
        return subprocess.run(command, capture_output=True, text=True, cwd="/", check=False)


def _reachable(account: str, path: Path) -> bool:
    done = subprocess.run(
        ["setpriv", f"--reuid={account}", "--clear-groups", "test", "-r", str(path / "console")],
        check=False,
    )
    return done.returncode == 0


@pytest.fixture(scope="module")
def bastion() -> Iterator[Bastion]:
    tag = uuid.uuid4().hex[:6]
    group, alice, bob = f"qteam{tag}", f"qalice{tag}", f"qbob{tag}"
    scratch = Path(tempfile.mkdtemp(prefix="quorum-bastion-"))
    scratch.chmod(0o755)
    mounts: list[Path] = []
    subprocess.run(["groupadd", group], check=True)
    try:
        for name in (alice, bob):
            subprocess.run(
                ["useradd", "-M", "-N", "-g", group, "-s", "/usr/sbin/nologin", name], check=True
            )
        site = Path(sysconfig.get_paths()["purelib"])
        paths = []
        for source in (ROOT, site):
            if _reachable(alice, source if source == ROOT else source.parent.parent.parent):
                paths.append(source)
                continue
            target = scratch / f"mnt{len(mounts)}"
            target.mkdir()
            subprocess.run(["mount", "--bind", "-o", "ro", str(source), str(target)], check=True)
            mounts.append(target)
            paths.append(target)
        home = scratch / "home"
        home.mkdir()
        home.chmod(0o755)
        for name in (alice, bob):
            (home / name).mkdir()
            shutil.chown(home / name, name, group)
        shared = scratch / "team"
        shared.mkdir()
        shutil.chown(shared, "root", group)
        shared.chmod(0o2770)
        yield Bastion(group, alice, bob, ":".join(map(str, paths)), shared, home)
    finally:
        for target in mounts:
            subprocess.run(["umount", "-l", str(target)], check=False)
        for name in (alice, bob):
            subprocess.run(["userdel", name], check=False)
        subprocess.run(["groupdel", group], check=False)
        shutil.rmtree(scratch, ignore_errors=True)


def team_config(bastion: Bastion, audit: Path, name: str) -> Path:
    path = bastion.home / f"{name}.toml"
    path.write_text(
        f'[team]\nmembers = ["{bastion.alice}", "{bastion.bob}"]\n\n'
        f'[audit]\npath = "{audit}"\n\n[policy.production]\nmin_approvals = 1\n\n'
        '[[providers]]\nname = "sim"\nkind = "sandbox"\nplatform = "kubernetes"\n'
    )
    path.chmod(0o644)
    return path


def mode_and_group(path: Path) -> tuple[str, int]:
    info = path.stat()
    return f"{stat.S_IMODE(info.st_mode):04o}", info.st_gid


def test_two_members_share_a_setgid_folder_whatever_their_umask(bastion: Bastion) -> None:
    folder = bastion.shared / "umask"
    folder.mkdir()
    shutil.chown(folder, "root", bastion.group)
    folder.chmod(0o2770)
    audit = folder / "audit.db"
    config = str(team_config(bastion, audit, "umask"))
    team_gid = folder.stat().st_gid

    made = bastion.run(bastion.alice, "propose", "deploy", "api", "--env", "production",
                       "--revision", "v7", "--config", config, umask="022")  # fmt: skip
    assert made.returncode == 0, made.stderr
    # bob only reads first, so the -wal and -shm companions are his to create ...
    read = bastion.run(bastion.bob, "audit", "verify", "--config", config, umask="077")
    assert read.returncode == 0, read.stderr
    # ... and alice, the file's owner, still writes after him; then bob votes.
    again = bastion.run(bastion.alice, "propose", "deploy", "web", "--env", "production",
                        "--revision", "v8", "--config", config, umask="022")  # fmt: skip
    assert again.returncode == 0, again.stderr
    voted = bastion.run(bastion.bob, "vote", "1", "approve", "--config", config, umask="002")
    assert voted.returncode == 0, voted.stderr
    assert "executed" in voted.stdout and "Traceback" not in voted.stderr
    for file in (audit, folder / "audit.db-wal", folder / "audit.db-shm"):
        if file.exists():
            assert mode_and_group(file) == ("0660", team_gid), file
    verified = bastion.run(bastion.alice, "audit", "verify", "--config", config)
    assert verified.stdout.startswith("ok: ") and "records, chain intact" in verified.stdout


def test_without_a_shared_path_the_data_is_private(bastion: Bastion) -> None:
    done = bastion.run(bastion.alice, "propose", "deploy", "api", "--env", "production",
                       "--revision", "v7", "--sandbox", umask="000")  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = bastion.home / bastion.alice / "data"
    assert mode_and_group(data)[0] == "0700"
    assert mode_and_group(data / "sandbox")[0] == "0700"
    for file in (data / "sandbox").iterdir():
        if file.name.startswith("audit.db"):
            assert mode_and_group(file)[0] == "0600", file


def test_a_file_quorum_cannot_write_is_one_line_naming_owner_mode_and_fix(
    bastion: Bastion,
) -> None:
    folder = bastion.shared / "legacy"
    folder.mkdir()
    shutil.chown(folder, "root", bastion.group)
    folder.chmod(0o2770)
    audit = folder / "audit.db"
    config = str(team_config(bastion, audit, "legacy"))
    made = bastion.run(bastion.alice, "propose", "deploy", "api", "--env", "production",
                       "--revision", "v7", "--config", config)  # fmt: skip
    assert made.returncode == 0, made.stderr
    # As an older version, or a hand-made file, left it: alice's own group, 0644.
    for file in folder.iterdir():
        shutil.chown(file, bastion.alice, "root")
        file.chmod(0o644)
    voted = bastion.run(bastion.bob, "vote", "1", "approve", "--config", config)
    assert voted.returncode == 1
    assert voted.stderr.count("\n") == 1 and "Traceback" not in voted.stderr
    first = min(f for f in folder.iterdir())
    assert voted.stderr == (
        f"quorum: {first} is owned by {bastion.alice}:root with mode 0644 and {bastion.bob} "
        f"cannot write it; run `chgrp {bastion.group} {first} && chmod 660 {first}` "
        f"(as {bastion.alice} or root)\n"
    )


def test_an_own_file_made_read_only_is_fixed_with_chmod_not_chown(bastion: Bastion) -> None:
    done = bastion.run(bastion.alice, "propose", "deploy", "auth", "--env", "production",
                       "--revision", "v9", "--sandbox")  # fmt: skip
    assert done.returncode == 0, done.stderr
    audit = bastion.home / bastion.alice / "data" / "sandbox" / "audit.db"
    audit.chmod(0o400)  # alice's own file, made read-only (a backup tool, a restore)
    try:
        again = bastion.run(bastion.alice, "propose", "deploy", "web", "--env", "production",
                            "--revision", "v9", "--sandbox")  # fmt: skip
    finally:
        audit.chmod(0o600)
    assert again.returncode == 1
    assert again.stderr == (
        f"quorum: {audit} is owned by {bastion.alice}:{bastion.group} with mode 0400 and "
        f"{bastion.alice} cannot write it; run `chmod 600 {audit}` (as {bastion.alice} or root)\n"
    )


def test_config_check_warns_when_a_member_could_not_write_the_audit_log(
    bastion: Bastion,
) -> None:
    folder = bastion.shared / "mine"
    folder.mkdir()
    shutil.chown(folder, bastion.alice, bastion.group)
    folder.chmod(0o755)  # alice's own folder: bob may read, not write
    config = str(team_config(bastion, folder / "audit.db", "mine"))
    done = bastion.run(bastion.alice, "config", "check", "--config", config)
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        f"warning: {folder} ({bastion.alice}:{bastion.group}, mode 0755) cannot be written "
        f"by {bastion.bob}\n"
    )
