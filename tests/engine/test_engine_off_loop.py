"""Store calls leave the event loop free: another process holding the file's write lock
delays a vote, never the loop that asked for it."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from console.cli.main import main
from console.cli.runner import WAITING
from console.domain.consensus import Kind, State
from console.domain.identity import Identity
from console.domain.names import current_user
from console.engine.actions import Actions
from console.engine.session import open_session
from console.engine.targets import resolve_target

ME = current_user()

HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
"""


@pytest.fixture(autouse=True)
def quiet_teammates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")


def test_a_vote_waits_for_the_lock_while_the_loop_keeps_running() -> None:
    session = open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))

    async def scenario() -> None:
        me = Actions(session, identity=Identity(ME, ME))
        waiting: list[str] = []
        alice = Actions(
            session, identity=Identity("alice", ME), on_waiting=lambda: waiting.append("wait")
        )
        try:
            ref = (await resolve_target(session, "api", "production")).ref
            pid = (await me.propose(Kind.DEPLOY, ref, revision="v7")).proposal.id
            holder = subprocess.Popen(
                [sys.executable, "-c", HOLDER, str(session.audit_path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert holder.stdout is not None and holder.stdin is not None
            assert holder.stdout.readline().strip() == "locked"
            try:
                vote = asyncio.create_task(alice.vote(pid, True))
                ticks = 0
                while ticks < 50 or not waiting:  # the loop turns while the vote waits
                    await asyncio.sleep(0.01)
                    ticks += 1
                    assert not vote.done(), vote
                assert waiting == ["wait"]  # told once that the change waits
            finally:
                holder.stdin.write("release\n")
                holder.stdin.close()
                await asyncio.to_thread(holder.wait)
            result = await vote
            assert result.proposal.tally.approvals == ("alice",)
            assert (await me.fetch_proposal(pid)).state is State.OPEN
        finally:
            me.close()
            alice.close()
            await session.close()

    asyncio.run(scenario())


def test_a_command_says_it_waits_for_the_lock_then_votes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    session = open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))

    async def propose() -> int:
        me = Actions(session, identity=Identity(ME, ME))
        try:
            ref = (await resolve_target(session, "api", "production")).ref
            return (await me.propose(Kind.DEPLOY, ref, revision="v7")).proposal.id
        finally:
            me.close()
            await session.close()

    pid = asyncio.run(propose())
    capsys.readouterr()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(session.audit_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "locked"
    os.environ["QUORUM_ACT_AS"] = "alice"
    try:
        with ThreadPoolExecutor(1) as pool:
            vote = pool.submit(main, ["--sandbox", "vote", str(pid), "approve"])
            # The waiting line comes while the lock is held. Peek at the captured stderr
            # rather than read it: reading empties the capture, and a line the vote's
            # thread writes between the read and the emptying would be lost.
            while WAITING not in sys.stderr.getvalue():
                assert not vote.done(), capsys.readouterr()
                time.sleep(0.01)
            holder.stdin.write("release\n")
            holder.stdin.close()
            holder.wait()
            assert vote.result() == 0
    finally:
        os.environ.pop("QUORUM_ACT_AS", None)
        if holder.poll() is None:
            holder.kill()
    out = capsys.readouterr().out
    assert out.startswith(f"{pid}  open  deploy api@production to v7")


def test_a_lock_held_past_the_busy_timeout_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    session = open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))

    async def propose() -> int:
        me = Actions(session, identity=Identity(ME, ME))
        try:
            ref = (await resolve_target(session, "api", "production")).ref
            return (await me.propose(Kind.DEPLOY, ref, revision="v7")).proposal.id
        finally:
            me.close()
            await session.close()

    pid = asyncio.run(propose())
    capsys.readouterr()
    monkeypatch.setattr("console.store.db.BUSY_TIMEOUT_MS", 200)
    monkeypatch.setenv("QUORUM_ACT_AS", "alice")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(session.audit_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(["--sandbox", "vote", str(pid), "approve"]) == 1
    finally:
        holder.stdin.write("release\n")
        holder.stdin.close()
        holder.wait()
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (
        f"quorum: {session.audit_path}: another process held the write lock for 0.2 s; try again"
    )
    assert "Traceback" not in "\n".join(err)
