"""A sandbox ledger with many proposals, for the benches that measure a long history.

`seed(data_dir, open_count=N)` opens N proposals that stay open; `settled_count=N`
opens N and withdraws them, an hour ago (outside the console's settled window), the
way a busy team's history piles up. Written through `Actions`, so every row has its
acts and audit records as a real ledger does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from datetime import timedelta
from pathlib import Path

from console.domain.consensus import Kind
from console.domain.model import utcnow
from console.engine.actions import Actions
from console.engine.session import open_session
from console.engine.targets import resolve_target


async def _seed(open_count: int, settled_count: int) -> None:
    session = open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))
    past = utcnow() - timedelta(hours=1)
    ticks = iter(range(10**9))
    # Settled proposals are made an hour ago, a millisecond apart.
    old = Actions(session, clock=lambda: past + timedelta(milliseconds=next(ticks)))
    now = Actions(session)
    try:
        ref = (await resolve_target(session, "api", "production")).ref
        for i in range(settled_count):
            pid = (await old.propose(Kind.DEPLOY, ref, revision=f"v{i}")).proposal.id
            await old.withdraw(pid)
        for i in range(open_count):
            await now.propose(Kind.DEPLOY, ref, revision=f"w{i}")
    finally:
        old.close()
        now.close()
        await session.close()


def seed(data_dir: Path, *, open_count: int = 0, settled_count: int = 0) -> None:
    """Fills the sandbox ledger under `data_dir` (QUORUM_DATA_DIR is set for the call)."""
    before = os.environ.get("QUORUM_DATA_DIR")
    os.environ["QUORUM_DATA_DIR"] = str(data_dir)
    os.environ["QUORUM_SANDBOX_TEAMMATES"] = "off"
    try:
        asyncio.run(_seed(open_count, settled_count))
    finally:
        if before is None:
            os.environ.pop("QUORUM_DATA_DIR", None)
        else:
            os.environ["QUORUM_DATA_DIR"] = before
