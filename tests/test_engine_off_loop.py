"""Store calls leave the event loop free: another process holding the file's write lock
delays a vote, never the loop that asked for it."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys

import pytest

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
            await alice.fetch_open()  # alice's stores are open before the lock is taken
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
