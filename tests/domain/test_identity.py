"""Identity comes from the uid; `QUORUM_ACT_AS` only counts for uid 0."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from console.domain.errors import PolicyRefused
from console.domain.identity import ACT_AS_VAR, Identity, current_identity, require_member
from console.domain.names import current_user
from console.domain.settings import Config
from tests.paths import ROOT

SYSTEM_PYTHON = "/usr/bin/python3"


def test_without_the_seam_the_os_account_acts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ACT_AS_VAR, raising=False)
    monkeypatch.setenv("USER", "somebody-else")
    monkeypatch.setenv("LOGNAME", "somebody-else")
    ident = current_identity()
    assert ident.name == current_user() != "somebody-else"
    assert not ident.via_seam and ident.note == ""


@pytest.mark.skipif(os.getuid() != 0, reason="the seam exists only for uid 0")
def test_root_may_act_as_someone_and_it_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ACT_AS_VAR, "alice")
    ident = current_identity()
    assert ident == Identity(name="alice", os_account=current_user(), via_seam=True)
    assert ACT_AS_VAR in ident.note and "alice" in ident.note


@pytest.mark.skipif(
    os.getuid() != 0 or not shutil.which(SYSTEM_PYTHON), reason="needs root and a system python"
)
def test_a_real_unprivileged_account_cannot_pick_its_identity() -> None:
    """Runs as the real `nobody` account with every variable set to claim alice.

    The code is copied to a world-readable folder first: the checkout may sit under a
    home directory `nobody` cannot enter.
    """
    code = (
        "import console.domain.identity as i; x = i.current_identity(); print(x.name, x.via_seam)"
    )
    readable = Path(tempfile.mkdtemp(prefix="quorum-identity-"))
    readable.chmod(0o755)
    for package in ("console", "providers"):
        shutil.copytree(ROOT / package, readable / package)
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(readable),
        ACT_AS_VAR: "alice",
        "USER": "alice",
        "LOGNAME": "alice",
    }
    done = subprocess.run(
        [SYSTEM_PYTHON, "-c", code],
        user="nobody",
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        check=False,
    )
    shutil.rmtree(readable)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["nobody", "False"]


def test_only_team_members_pass() -> None:
    team = Config(members=("alice", "bob"))
    require_member(team, Identity("alice", "alice"), "vote")
    with pytest.raises(PolicyRefused, match="mallory is not in \\[team\\] members"):
        require_member(team, Identity("mallory", "mallory"), "vote")
    with pytest.raises(PolicyRefused, match="lists no \\[team\\] members"):
        require_member(Config(), Identity("alice", "alice"), "vote")
