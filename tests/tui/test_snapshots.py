"""Snapshots of every pane and every dialog at 80x24, 100x30, 120x40 and 160x48, and of
a zoomed pane, on the paused sandbox with a fixed clock and a fixed team, so every run
paints the same screen.

Below 120 columns one pane shows under Services, so each pane has its own picture
there; from 120x30 up the main screen holds all six. The world holds one proposal by
alice waiting for votes and its audit record, so Approvals and Audit show rows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, tzinfo
from pathlib import Path

import pytest

import console.store.audit as audit_store
from console.app import QuorumApp
from console.domain.consensus import Kind
from console.domain.identity import Identity
from console.domain.pace import Pace
from console.engine.actions import Actions
from providers.sandbox import PAUSED_AT
from tests.app_support import move_cursor, open_by_command, sandbox_session, settle
from widgets.dialogs.calendar import CalendarScreen
from widgets.dialogs.details import DetailsScreen
from widgets.dialogs.help import HelpScreen
from widgets.dialogs.modals import ConfirmScreen, FormScreen, PickScreen
from widgets.panes.approvals import ApprovalsPane
from widgets.panes.audit import AuditPane
from widgets.panes.rotation import RotationPane

TEAM = ("dana", "alice", "bob", "carol")
SIZES = [(80, 24), (100, 30), (120, 40), (160, 48)]
NARROW = SIZES[:2]
WIDE = SIZES[2:]
PANES = ("services", "logs", "metrics", "approvals", "rotation", "audit")
API_PROD = "sim-k8s/api/production"


class PausedDatetime(datetime):
    """The audit log stamps records with the wall clock; the pictures need the paused one."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        return PAUSED_AT if tz is not None else PAUSED_AT.replace(tzinfo=None)


@pytest.fixture(autouse=True)
def _paused_audit_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_store, "datetime", PausedDatetime)


def _app(tmp_path: Path, *, watch: bool = False) -> QuorumApp:
    """The paused sandbox; with `watch` its monitoring too (health rows, alerts strip)."""
    session = sandbox_session(tmp_path / "data", watch=watch)
    config = session.config
    # The sandbox team starts with whoever runs the tests; a fixed name keeps the picture.
    rotations = tuple(
        replace(r, members=TEAM) if r.name == "on-call" else r for r in config.rotations
    )
    session.config = replace(config, members=TEAM, rotations=rotations)
    # Log lines are drawn as they come (no held batch), so a picture never catches the
    # moment between two batches; what batching sends is measured in bench/.
    pace = Pace(poll=30.0, side=2.0, metrics=30.0, log_scroll=0.0)
    return QuorumApp(session, now=lambda: PAUSED_AT, identity=Identity("dana", "dana"), pace=pace)


async def _loaded(pilot) -> None:
    """Every pane filled, alice's proposal waiting (teammates vote seconds after it
    opens, and the clock is paused at the moment it opened), no toast on screen."""
    app: QuorumApp = pilot.app
    rows = 25 if "sim-watch" in app.session.providers else 20  # 5 health rows
    await settle(pilot, lambda: len(app.services.table.keys) == rows)
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
    await settle(pilot, lambda: len(app.logs.view.lines) >= 200 and not app.logs.view._pending)
    await settle(pilot, lambda: bool(app.metrics.series))
    rotation = app.screen.query_one(RotationPane)
    await settle(pilot, lambda: len(rotation.table.keys) == 2)
    alice = Actions(app.session, identity=Identity("alice", "alice"), clock=lambda: PAUSED_AT)
    ref = app.feeds.views[API_PROD].target.ref
    await alice.propose(Kind.DEPLOY, ref, revision="v2.9.0", reason="checkout latency fix")
    alice.close()
    app.feeds.refresh_side(force=True)
    await settle(pilot, lambda: len(app.screen.query_one(ApprovalsPane).items) == 1)
    await settle(pilot, lambda: len(app.screen.query_one(AuditPane).table.keys) == 1)
    await _quiet(pilot)


async def _quiet(pilot) -> None:
    """Toasts last a few seconds of wall time, which a loaded machine may or may not
    outlast: they are no part of the picture."""
    pilot.app.clear_notifications()
    await settle(pilot, lambda: not pilot.app.screen.query("Toast"))
    await pilot.pause()


def _pane(name: str) -> Callable[..., Awaitable[None]]:
    async def show(pilot) -> None:
        await _loaded(pilot)
        await open_by_command(pilot, name, pilot.app.pane(name))
        await _quiet(pilot)

    return show


@pytest.mark.parametrize("size", NARROW, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("pane", PANES)
def test_pane(snap_compare, tmp_path: Path, pane: str, size: tuple[int, int]) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=_pane(pane))


@pytest.mark.parametrize("size", WIDE, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:
    """The whole sandbox as `quorum --sandbox` shows it, its monitoring included."""
    assert snap_compare(_app(tmp_path, watch=True), terminal_size=size, run_before=_loaded)


async def _dialog(pilot, screen: type, *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot, lambda: isinstance(pilot.app.screen, screen))
    await _quiet(pilot)


async def _help(pilot) -> None:
    await _loaded(pilot)
    await _dialog(pilot, HelpScreen, "question_mark")


async def _describe(pilot) -> None:
    await _loaded(pilot)
    await _dialog(pilot, DetailsScreen, "d")


async def _calendar(pilot) -> None:
    await _loaded(pilot)
    await pilot.press("colon", *"calendar", "enter")
    await settle(pilot, lambda: isinstance(pilot.app.screen, CalendarScreen))
    await settle(pilot, lambda: bool(getattr(pilot.app.screen, "cells", None)))
    await _quiet(pilot)


async def _revisions(pilot) -> None:
    """`n` on api@production: the pick of a revision to propose."""
    app: QuorumApp = pilot.app
    await _loaded(pilot)
    move_cursor(app.services.table, API_PROD)
    await settle(pilot, lambda: app.selected is not None and app.selected.key == API_PROD)
    await open_by_command(pilot, "apr", app.pane("approvals"))
    await _dialog(pilot, PickScreen, "n")


async def _form(pilot) -> None:
    """The proposal's reason, after its revision."""
    await _revisions(pilot)
    await _dialog(pilot, FormScreen, "down", "enter")


async def _confirm(pilot) -> None:
    """`r` on api@production: restart asks for the service's name."""
    app: QuorumApp = pilot.app
    await _loaded(pilot)
    move_cursor(app.services.table, API_PROD)
    await settle(pilot, lambda: app.selected is not None and app.selected.key == API_PROD)
    await _dialog(pilot, ConfirmScreen, "r")


DIALOGS = {
    "help": _help,
    "describe": _describe,
    "calendar": _calendar,
    "pick": _revisions,
    "form": _form,
    "confirm": _confirm,
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("dialog", DIALOGS)
def test_dialog(snap_compare, tmp_path: Path, dialog: str, size: tuple[int, int]) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=DIALOGS[dialog])


def test_zoomed_logs(snap_compare, tmp_path: Path) -> None:
    async def zoom(pilot) -> None:
        app: QuorumApp = pilot.app
        await _loaded(pilot)
        await pilot.press("l", "t", "f")
        await settle(pilot, lambda: app.screen.maximized is app.logs and app.logs.view.timestamps)
        await _quiet(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=(120, 36), run_before=zoom)
