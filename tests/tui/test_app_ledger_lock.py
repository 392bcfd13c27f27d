"""Another process holding the ledger's write lock never freezes the console's keys.

A second console (or a command) in the middle of a write holds SQLite's write lock;
the console's store calls wait for it in a worker thread, so keys keep answering, the
console says the change is waiting, and the vote lands once the lock is released.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from console.app import QuorumApp
from console.domain.consensus import Kind
from console.domain.identity import Identity
from console.engine.actions import Actions
from console.store.proposals import ProposalStore
from tests.app_support import (
    NOW,
    FakeProvider,
    make_session,
    move_cursor,
    open_by_command,
    settle,
    standard_targets,
)
from widgets.dialogs.help import HelpScreen
from widgets.dialogs.modals import FormScreen
from widgets.panes.approvals import ApprovalsPane

# Holds the write lock until told to let go on stdin, or for 10 s at most (a test that
# died never leaves a locked file behind for long).
HOLDER = """
import sqlite3, sys, threading
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), done.set()), daemon=True).start()
done.wait(10)
conn.execute("COMMIT")
print("released", flush=True)
"""


def _my_votes(path: Path, pid: int) -> list[str]:
    store = ProposalStore(path)
    try:
        return [v.voter for v in store.get(pid).votes]
    finally:
        store.close()


async def test_keys_answer_while_another_process_holds_the_write_lock(tmp_path: Path) -> None:
    provider = FakeProvider("alpha", standard_targets(), tmp_path)
    session = make_session(tmp_path / "data", [provider])
    me = Identity("me", "root", via_seam=True)
    alice = Actions(session, identity=Identity("alice", "root", via_seam=True), clock=lambda: NOW)
    ref = next(t.ref for t in provider.targets if t.ref.key == "alpha/api/production")
    proposal = (await alice.propose(Kind.DEPLOY, ref, revision="v0.9")).proposal
    alice.close()
    app = QuorumApp(session, now=lambda: NOW, identity=me, side_interval=0.3)
    async with app.run_test(size=(120, 40)) as pilot:
        key = f"proposal-{proposal.id}"
        await settle(pilot, lambda: key in app.approvals_pane.table.keys)
        pane = app.screen_stack[0].query_one(ApprovalsPane)
        await open_by_command(pilot, "apr", lambda: app.approvals_pane)
        move_cursor(pane.table, key)
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(session.audit_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout.readline().strip() == "locked"
            await pilot.press("a")
            await settle(pilot, lambda: isinstance(app.screen, FormScreen))
            await pilot.press("enter")  # the vote now waits for the lock, off the event loop
            await settle(pilot, lambda: any("waiting" in m for m in app.notices))
            await pilot.press("question_mark")  # a key pressed meanwhile is answered
            await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
            assert holder.poll() is None  # ... while the lock is still held
            assert "me" not in _my_votes(session.audit_path, proposal.id)
        finally:
            if holder.poll() is None:
                holder.stdin.write("release\n")
                holder.stdin.flush()
            released = holder.stdout.readline().strip()
            holder.wait(timeout=30)
        assert released == "released"
        await settle(pilot, lambda: "me" in _my_votes(session.audit_path, proposal.id))
        await settle(pilot, lambda: any("approved proposal" in m for m in app.notices))
