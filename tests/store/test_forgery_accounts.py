"""A hostile member on a shared bastion: a real second OS account, raw sqlite3, the shared
file writable by the team's group as the README sets it up, and no key but their own.

The suite creates the account and the group when it runs as root (as on CI); a
non-root run skips with the reason. The forger (`tests/forger.py`) runs under the
system's Python as that account, with no access to Quorum's code or to the keys.
"""

from __future__ import annotations

import argparse
import asyncio
import grp
import json
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from console.cli.main import main
from console.domain.consensus import Kind, State
from console.domain.errors import PolicyRefused
from console.domain.identity import Identity
from console.domain.names import current_user
from console.domain.settings import Policy
from console.engine.actions import Actions, proposal_key
from console.engine.session import Session, open_session
from console.engine.targets import resolve_target
from console.store.audit import AuditLog
from tests.paths import FORGER
from tests.signing_support import SshTeam, start_team

T = TypeVar("T")
ACCOUNT, GROUP = "qmallory", "qshare"
MEMBERS = ("alice", "bob", "carol", "dave", "mallory")


def _system_python() -> str | None:
    """A Python 3 every account can run (the suite's own may live under /root)."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3", shutil.which("python3")):
        if candidate and os.access(candidate, os.X_OK) and not candidate.startswith("/root"):
            return candidate
    return None


@pytest.fixture(scope="module")
def account() -> Iterator[str]:
    if os.geteuid() != 0:
        reason = "forgery tests need root to create a second OS account; running as uid "
        print(f"\nskipped: {reason}{os.geteuid()}")
        pytest.skip(reason + str(os.geteuid()))
    python = _system_python()
    if python is None or not shutil.which("useradd"):
        pytest.skip("no system python3 or no useradd to create the forger's account")
    made_group = made_user = False
    try:
        grp.getgrnam(GROUP)
    except KeyError:
        subprocess.run(["groupadd", GROUP], check=True)
        made_group = True
    try:
        pwd.getpwnam(ACCOUNT)
    except KeyError:
        subprocess.run(
            ["useradd", "--no-create-home", "--gid", GROUP, "--shell", "/bin/false", ACCOUNT],
            check=True,
        )
        made_user = True
    try:
        yield python
    finally:
        if made_user:
            subprocess.run(["userdel", ACCOUNT], check=False)
        if made_group:
            subprocess.run(["groupdel", GROUP], check=False)


@pytest.fixture
def shared(account: str) -> Iterator[Path]:
    """A directory the team's group may write, holding the ledger and the forger."""
    folder = Path(tempfile.mkdtemp(prefix="quorum-shared-", dir="/tmp"))
    gid = grp.getgrnam(GROUP).gr_gid
    os.chown(folder, 0, gid)
    folder.chmod(0o2770)
    db = folder / "audit.db"
    db.touch()
    os.chown(db, 0, gid)
    db.chmod(0o660)  # SQLite gives its -wal and -shm files the database's mode
    forger = folder / "forger.py"
    shutil.copy(FORGER, forger)
    forger.chmod(0o644)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, account: str) -> Iterator[SshTeam]:
    for started in start_team(tmp_path / "keys", MEMBERS):
        monkeypatch.setenv("SSH_AUTH_SOCK", str(started.socket))
        yield started


def forge(python: str, shared: Path, *args: str) -> None:
    """Runs the forger as the second account: its uid, its group, nothing of root's."""
    result = subprocess.run(
        [python, str(shared / "forger.py"), str(shared / "audit.db"), *args],
        user=ACCOUNT,
        group=GROUP,
        extra_groups=[],
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
        cwd="/",
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert os.stat(shared / "audit.db").st_uid == 0  # the forger only wrote into it


def session_for(team: SshTeam, shared: Path, **changes: object) -> Session:
    session = open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))
    session.config = replace(
        session.config,
        members=MEMBERS,
        signers=team.allowed(),
        simulated_teammates=(),
        audit_path=shared / "audit.db",
        policies={"production": Policy("production", min_approvals=2)},
        **changes,
    )
    return session


def run(session: Session, scenario: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await scenario()
        finally:
            await session.close()

    return asyncio.run(main())


def as_(session: Session, name: str) -> Actions:
    return Actions(session, identity=Identity(name, current_user()))


def config_file(team: SshTeam, shared: Path, tmp_path: Path) -> Path:
    path = tmp_path / "team.toml"
    path.write_text(
        f"[team]\nmembers = {json.dumps(list(MEMBERS))}\n"
        f'allowed_signers = "{team.allowed_path}"\n'
        f'[audit]\npath = "{shared / "audit.db"}"\n'
    )
    return path


def test_a_vote_inserted_as_another_member_does_not_count(
    account: str, shared: Path, team: SshTeam
) -> None:
    session = session_for(team, shared)

    async def propose() -> tuple[int, str]:
        ref = (await resolve_target(session, "web", "production")).ref
        opened = await as_(session, "alice").propose(Kind.DEPLOY, ref, revision="v8.0.0")
        await as_(session, "bob").vote(opened.proposal.id, True)
        return opened.proposal.id, (await resolve_target(session, "web", "production")).revision

    pid, before = run(session, propose)
    forge(account, shared, "insert-vote", str(pid), "carol", "approve")
    forge(account, shared, "insert-vote", str(pid), "dave", "approve", "bob")  # bob's signature
    later = session_for(team, shared)

    async def check() -> None:
        me = as_(later, "alice")
        view = me.get(pid)
        assert view.state is State.OPEN and view.tally.approvals == ("bob",)
        assert [(s.act.author, why) for s, why in view.ignored] == [
            ("carol", "not signed by carol"),
            ("dave", "the signature is not dave's over this content"),
        ]
        with pytest.raises(PolicyRefused, match="is open by its signed acts"):
            me.ledger.require_executable(pid, "v8.0.0", None)
        assert await me.run_approved() == []
        assert (await resolve_target(later, "web", "production")).revision == before

    run(later, check)


def test_an_edited_state_is_not_believed(account: str, shared: Path, team: SshTeam) -> None:
    session = session_for(team, shared)

    async def propose() -> int:
        ref = (await resolve_target(session, "api", "production")).ref
        opened = await as_(session, "alice").propose(Kind.DEPLOY, ref, revision="v3.3.3")
        return opened.proposal.id

    pid = run(session, propose)
    forge(account, shared, "set-state", str(pid), "approved")
    later = session_for(team, shared)

    async def check() -> None:
        me = as_(later, "bob")
        assert me.proposals.get(pid).state is State.APPROVED  # the cache says so...
        assert me.get(pid).state is State.OPEN  # ...the signed acts do not
        assert await me.run_approved() == []
        assert me.claims.get(proposal_key(pid)) is None

    run(later, check)


def test_a_hash_correct_audit_record_as_another_member_is_named(
    account: str,
    shared: Path,
    team: SshTeam,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    session = session_for(team, shared)

    async def act() -> None:
        ref = (await resolve_target(session, "api", "production")).ref
        await as_(session, "alice").propose(Kind.DEPLOY, ref, revision="v3.3.4")

    run(session, act)
    with AuditLog(shared / "audit.db") as log:
        seq = log.head()[0] + 1
    forge(account, shared, "append-audit", "bob", "vote", "approve, as bob")
    config = config_file(team, shared, tmp_path)
    assert main(["--config", str(config), "audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"failed: record {seq}: not signed (written as bob)")


def test_a_rejection_deleted_and_the_chain_re_hashed_does_not_unblock(
    account: str,
    shared: Path,
    team: SshTeam,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = session_for(team, shared)

    async def block() -> tuple[int, str]:
        ref = (await resolve_target(session, "auth", "production")).ref
        opened = await as_(session, "alice").propose(Kind.DEPLOY, ref, revision="v9.0.0")
        pid = opened.proposal.id
        await as_(session, "bob").vote(pid, True)
        await as_(session, "carol").vote(pid, False)
        await as_(session, "dave").vote(pid, False)
        voted = await as_(session, "mallory").vote(pid, True)
        assert voted.proposal.state is State.BLOCKED
        return pid, (await resolve_target(session, "auth", "production")).revision

    pid, before = run(session, block)
    config = config_file(team, shared, tmp_path)
    assert main(["--config", str(config), "audit", "verify"]) == 0  # seen and checked
    capsys.readouterr()

    # First the act alone: the state derived from what is left would be approved.
    forge(account, shared, "delete-vote", str(pid), "carol")
    later = session_for(team, shared)

    async def refused(match: str) -> None:
        me = as_(later, "alice")
        assert me.get(pid).state is State.APPROVED  # what the remaining acts say
        (outcome,) = await me.run_approved(grace=timedelta(0))
        assert isinstance(outcome, PolicyRefused) and match in str(outcome), outcome
        assert me.claims.get(proposal_key(pid)) is None

    run(later, lambda: refused("records a vote by carol that its acts no longer hold"))

    # Then its audit record too, every later record re-hashed: the next author's
    # signature covered the old chain.
    forge(account, shared, "delete-audit-of", "carol", "vote", proposal_key(pid))
    later = session_for(team, shared)
    run(later, lambda: refused("nothing runs until it is looked into"))
    assert main(["--config", str(config), "audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "but this account saw record" in out  # the head it checked is gone
    # Someone who never saw the log before is told which record fails: dave's vote
    # now follows bob's, and dave signed the chain as it was.
    monkeypatch.setenv("QUORUM_STATE_DIR", str(tmp_path / "newcomer-state"))
    assert main(["--config", str(config), "audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("failed: record 3: the signature is not dave's"), out
    final = session_for(team, shared)
    assert run(final, lambda: _revision(final)) == before


async def _revision(session: Session) -> str:
    return (await resolve_target(session, "auth", "production")).revision
