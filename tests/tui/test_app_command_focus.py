"""After a `:` command the keys go back to a pane, never to the closed prompt."""

from __future__ import annotations

from pathlib import Path

from console.app import QuorumApp
from console.tui.keys import focused_pane
from tests.app_support import NOW, FakeProvider, make_session, settle, standard_targets
from widgets.panes.metrics import MetricsPane


async def test_keys_after_a_scope_command_reach_the_services_pane(tmp_path: Path) -> None:
    alpha = FakeProvider("alpha", standard_targets(), tmp_path)
    app = QuorumApp(make_session(tmp_path / "data", [alpha]), now=lambda: NOW, poll_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        for command in ("env production", "no-such-command"):
            await pilot.press("colon", *command, "enter")
            await settle(pilot, lambda: focused_pane(app) is app.services)
        await pilot.press("m")
        await settle(pilot, lambda: focused_pane(app) is app.main.query_one(MetricsPane))
