"""Snapshots of the main screen (80x24 and 160x48), a zoomed pane and the help, on the
paused sandbox with a fixed clock and a fixed team, so every run paints the same screen."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from console.app import QuorumApp
from console.domain.identity import Identity
from providers.sandbox import PAUSED_AT
from tests.app_support import sandbox_session, settle
from widgets.dialogs.help import HelpScreen
from widgets.panes.rotation import RotationPane

TEAM = ("dana", "alice", "bob", "carol")


def _app(tmp_path: Path) -> QuorumApp:
    session = sandbox_session(tmp_path / "data")
    config = session.config
    # The sandbox team starts with whoever runs the tests; a fixed name keeps the picture.
    rotations = tuple(
        replace(r, members=TEAM) if r.name == "on-call" else r for r in config.rotations
    )
    session.config = replace(config, members=TEAM, rotations=rotations)
    return QuorumApp(
        session,
        now=lambda: PAUSED_AT,
        identity=Identity("dana", "dana"),
        poll_interval=30.0,
        metrics_interval=30.0,
    )


async def _loaded(pilot) -> None:
    app: QuorumApp = pilot.app
    await settle(pilot, lambda: len(app.services.table.keys) == 20)
    table = app.services.table
    # Whichever simulated provider answers first holds the cursor (its rows came first);
    # the picture is of the top row, as a person pressing Home would see it.
    if table.cursor_key != table.keys[0]:
        await pilot.press("home")
    first = table.keys[0]
    await settle(pilot, lambda: app.selected is not None and app.selected.key == first)
    ref = app.selected.target.ref
    subject = f"{ref.service}@{ref.environment}"
    await settle(
        pilot,
        lambda: app.logs.subject == subject and app.metrics.subject.startswith(f"{subject} "),
    )
    await settle(pilot, lambda: len(app.logs.view.lines) > 0 and not app.logs.view._pending)
    await settle(pilot, lambda: bool(app.metrics.series))
    pane = app.screen.query_one(RotationPane)
    await settle(pilot, lambda: len(pane.table.keys) == 2)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_main_screen(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=_loaded)


def test_main_screen_metrics_deck_at_80x24(snap_compare, tmp_path: Path) -> None:
    async def metrics(pilot) -> None:
        await _loaded(pilot)
        await pilot.press("colon", *"metrics", "enter")
        await pilot.pause()

    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=metrics)


def test_zoomed_logs(snap_compare, tmp_path: Path) -> None:
    async def zoom(pilot) -> None:
        app: QuorumApp = pilot.app
        await _loaded(pilot)
        await pilot.press("l", "t", "f")
        await settle(pilot, lambda: app.screen.maximized is app.logs and app.logs.view.timestamps)
        # The "timestamps on" toast lasts 2 s of wall time, which a loaded machine may
        # or may not outlast: it is no part of the picture.
        app.clear_notifications()
        await settle(pilot, lambda: not app.screen.query("Toast"))
        await pilot.pause()

    assert snap_compare(_app(tmp_path), terminal_size=(120, 36), run_before=zoom)


def test_help(snap_compare, tmp_path: Path) -> None:
    async def help_screen(pilot) -> None:
        await _loaded(pilot)
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        await pilot.pause()

    assert snap_compare(_app(tmp_path), terminal_size=(100, 40), run_before=help_screen)
