"""A long change shows how far it got under the panes, and the line goes when it ends."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from console.app import QuorumApp
from console.domain.identity import Identity
from console.domain.model import TargetRef
from providers.base import Capability, report_progress
from tests.app_support import NOW, FakeProvider, make_session, settle, standard_targets
from widgets.base.chrome import ActionProgress


class SlowRestarts(FakeProvider):
    """Restarts report each task replaced, one report from a worker thread (as boto3
    calls do), and wait for the test between steps."""

    capabilities = FakeProvider.capabilities | Capability.RESTART

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.step = asyncio.Event()
        self.threads: set[int] = set()

    async def restart(self, target: TargetRef) -> str:
        report_progress(f"{target.service}: replacing tasks \x1b[31m", 0, 3)
        for done in (1, 2):
            await self.step.wait()
            self.step.clear()
            report_progress(f"{target.service}: {done} of 3 tasks replaced", done, 3)
        await self.step.wait()

        def last() -> None:
            self.threads.add(threading.get_ident())
            report_progress(f"{target.service}: 3 of 3 tasks replaced", 3, 3)

        await asyncio.to_thread(last)
        return "restarted"


def _line(app: QuorumApp) -> ActionProgress:
    return app.screen_stack[0].query_one(ActionProgress)


async def test_a_restart_shows_its_progress_then_the_outcome_then_nothing(tmp_path: Path) -> None:
    provider = SlowRestarts("alpha", standard_targets(), tmp_path)
    session = make_session(tmp_path / "data", [provider])
    me = Identity("me", "root", via_seam=True)
    app = QuorumApp(session, now=lambda: NOW, poll_interval=0.05, identity=me)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        assert not _line(app).display  # nothing runs: no line
        ref = next(t.ref for t in provider.targets if t.ref.environment == "staging")
        running = asyncio.create_task(app.actions.restart(ref))
        await settle(pilot, lambda: _line(app).display)
        shown = str(_line(app).render())
        assert "0/3" in shown and "replacing tasks" in shown and "\x1b" not in shown
        provider.step.set()
        await settle(pilot, lambda: "1/3" in str(_line(app).render()))
        provider.step.set()
        await settle(pilot, lambda: "2/3" in str(_line(app).render()))
        provider.step.set()
        outcome = await running
        assert outcome.ok
        assert provider.threads and threading.get_ident() not in provider.threads
        await settle(pilot, lambda: "finished" in str(_line(app).render()))
        assert "1/1" in str(_line(app).render())
        await settle(pilot, lambda: not _line(app).display)  # it lingers, then goes
