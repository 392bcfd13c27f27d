"""The approval that completes a quorum runs the change, so the engine casts it only
when the voter agreed to that: a vote another process cast between the console's
form and the cast must not turn an unconfirmed approval into the one that runs it."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.domain.consensus import Kind, State
from console.domain.errors import PolicyRefused
from console.domain.identity import Identity
from console.domain.names import current_user
from console.engine.actions import Actions
from console.engine.session import open_session
from console.engine.targets import resolve_target
from console.store.audit import AuditLog
from tests.paths import ROOT

ME = current_user()


def _cli_vote(pid: int, voter: str) -> subprocess.CompletedProcess[str]:
    """`quorum vote PID approve` as `voter`, in a process of its own on the same data."""
    env = {**os.environ, "QUORUM_ACT_AS": voter, "QUORUM_SANDBOX_TEAMMATES": "off"}
    code = "import sys; from console.cli.main import main; sys.exit(main(sys.argv[1:]))"
    argv = [sys.executable, "-c", code, "--sandbox", "vote", str(pid), "approve"]
    return subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)


def _audit(path: Path) -> list[tuple[str, str, str]]:
    with AuditLog(path) as log:
        return [(r.who, r.action, r.outcome) for r in log.tail(100)]


def test_an_approval_another_process_made_completing_is_refused_unless_confirmed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")
    session = open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))
    bob = Actions(session, identity=Identity("bob", ME))

    async def scenario() -> None:
        ref = (await resolve_target(session, "api", "production")).ref
        opened = await Actions(session, identity=Identity("carol", ME)).propose(
            Kind.DEPLOY, ref, revision="v2.9.0"
        )
        pid = opened.proposal.id
        read = await bob.fetch_proposal(pid)
        assert not bob.approval_completes(read)  # so the console's form asks nothing

        cast = await asyncio.to_thread(_cli_vote, pid, "alice")  # meanwhile, elsewhere
        assert cast.returncode == 0, cast.stderr
        before = _audit(session.audit_path)

        with pytest.raises(PolicyRefused) as refused:
            await bob.vote(pid, True, "lgtm", seen_version=read.proposal.version)
        message = str(refused.value)
        assert "\n" not in message and refused.value.exit_code == 3
        assert "complete the quorum" in message and "approve again" in message
        assert opened.proposal.proposal.describe() in message
        assert _audit(session.audit_path) == before  # nothing recorded, not even a refusal
        now = await bob.fetch_proposal(pid)
        assert now.proposal.state is State.OPEN
        assert [v.voter for v in now.proposal.votes] == ["alice"]

        done = await bob.vote(pid, True, "lgtm", confirmed_run=True)
        assert done.outcome is not None and done.outcome.ok
        assert done.proposal.state is State.EXECUTED

    async def main() -> None:
        try:
            await scenario()
        finally:
            bob.close()
            await session.close()

    asyncio.run(main())
    assert ("bob", "vote", "approve") in _audit(session.audit_path)


def test_an_unconfirmed_approval_that_does_not_complete_is_cast(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")
    session = open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))
    alice = Actions(session, identity=Identity("alice", ME))

    async def scenario() -> None:
        ref = (await resolve_target(session, "web", "production")).ref
        opened = await Actions(session, identity=Identity("carol", ME)).propose(
            Kind.DEPLOY, ref, revision="v4.1.0"
        )
        voted = await alice.vote(opened.proposal.id, True)
        assert voted.outcome is None and voted.proposal.tally.needed == 1

    async def main() -> None:
        try:
            await scenario()
        finally:
            alice.close()
            await session.close()

    asyncio.run(main())
