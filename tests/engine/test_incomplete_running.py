"""The console's start offers only what a crash left: an action whose process still
runs here (a teammate's deploy under way) is not a crash to resolve."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from console.domain.identity import Identity
from console.domain.model import TargetRef
from console.engine.actions import Actions
from console.engine.owner import this_process
from console.store.claims import Claim, ClaimStore
from providers.sandbox import PAUSED_AT
from tests.app_support import sandbox_session

REF = TargetRef("sim-k8s", "api", "production", "deployment/api")


def test_an_action_whose_process_runs_is_left_out_at_start_but_listed_when_asked(
    tmp_path: Path,
) -> None:
    session = sandbox_session(tmp_path / "data")
    me = this_process()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    running = Claim("deploy-running", "deploy", "alice", REF, "v9.0.1", None,
                    PAUSED_AT - timedelta(seconds=20), owner_host=me.host,
                    owner_pid=me.pid, owner_start=me.start)  # fmt: skip
    crashed = replace(running, key="deploy-crashed", owner_pid=int(gone.stdout), owner_start="")
    unknown = replace(running, key="deploy-elsewhere", owner_host="another-host")
    store = ClaimStore(session.audit_path)
    for claim in (running, crashed, unknown):
        store.claim(claim)
    store.close()

    async def read() -> tuple[list[str], list[str]]:
        actions = Actions(session, identity=Identity("alice", "alice"))
        try:
            at_start = await actions.fetch_incomplete(crashed_only=True)
            asked = await actions.fetch_incomplete()
            return sorted(c.key for c in at_start), sorted(c.key for c in asked)
        finally:
            actions.close()
            await session.close()

    at_start, asked = asyncio.run(read())
    assert at_start == ["deploy-crashed", "deploy-elsewhere"]  # gone, or not knowable here
    assert asked == ["deploy-crashed", "deploy-elsewhere", "deploy-running"]
