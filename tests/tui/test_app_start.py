"""The start and the end: the collector paused only until the first frame, and messages
that arrive after the quit do no harm."""

from __future__ import annotations

import gc
from pathlib import Path

from console.app import QuorumApp
from tests.app_support import NOW, FakeProvider, make_session, settle, standard_targets


async def test_the_collector_paused_for_the_start_is_back_on_after_the_first_frame(
    tmp_path: Path,
) -> None:
    provider = FakeProvider("alpha", standard_targets(), tmp_path)
    app = QuorumApp(make_session(tmp_path / "data", [provider]), now=lambda: NOW)
    gc.disable()  # as console.cli.main does before it imports the app
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot, lambda: len(app.services.table.keys) == 4)
            await settle(pilot, lambda: gc.isenabled())
            assert app.query("#audit")  # the panes after the first frame are mounted
    finally:
        gc.enable()


async def test_a_selection_arriving_after_the_quit_is_ignored(tmp_path: Path) -> None:
    provider = FakeProvider("alpha", standard_targets(), tmp_path)
    app = QuorumApp(make_session(tmp_path / "data", [provider]), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: app.feeds.started and len(app.services.table.keys) == 4)
    assert not app.screen_stack
    # What a Services "selected" message posted just before the quit does when handled.
    app.feeds.select("alpha/api/staging")
    assert app.selected is not None and app.selected.key == "alpha/api/staging"


async def test_a_start_step_arriving_after_the_quit_does_nothing(tmp_path: Path) -> None:
    """The rest of the start is scheduled (a timer, after a refresh); the console may
    quit before it runs, and then it must neither raise nor start a stream."""
    provider = FakeProvider("alpha", standard_targets(), tmp_path)
    app = QuorumApp(make_session(tmp_path / "data", [provider]), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        app.feeds.started = False  # as if the scheduled start had not run yet
    assert not app.screen_stack
    app.feeds.start()
    app.feeds.tick()
    app.feeds.refresh_side(force=True)
    assert not app.feeds.started
