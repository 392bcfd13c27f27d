"""Closing a dialog keeps the footer's key widgets; one help screen is refilled per `?`.

Textual keeps each widget's rendered lines in a process-wide cache for a while after
the widget is gone, so widgets rebuilt on every `?` made memory grow with each press.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.widget import Widget
from textual.widgets._footer import FooterKey

from console.app import QuorumApp
from console.config.sandbox_team import sandbox_config
from tests.app_support import NOW, FakeProvider, make_session, settle, standard_targets
from widgets.base.footer import KeyFooter
from widgets.dialogs.calendar import CalendarScreen
from widgets.dialogs.help import HelpScreen
from widgets.main import MainScreen


def _app(tmp_path: Path) -> QuorumApp:
    config = replace(sandbox_config(), providers=())
    provider = FakeProvider("alpha", standard_targets(), tmp_path)
    return QuorumApp(make_session(tmp_path / "data", [provider], config=config), now=lambda: NOW)


def _footer_keys(app: QuorumApp) -> list[Widget]:
    return list(app.main.query("FooterKey"))


async def _open_and_close_help(pilot, app: QuorumApp) -> HelpScreen:
    await pilot.press("question_mark")
    await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
    screen = app.screen
    assert isinstance(screen, HelpScreen)
    await pilot.press("escape")
    await settle(pilot, lambda: isinstance(app.screen, MainScreen))
    await pilot.pause()
    return screen


async def test_help_opened_and_closed_keeps_the_footer_keys(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        await settle(pilot, lambda: any(k.key == "question_mark" for k in _footer_keys(app)))
        before = _footer_keys(app)
        first = await _open_and_close_help(pilot, app)
        second = await _open_and_close_help(pilot, app)
        after = _footer_keys(app)
        assert [id(k) for k in after] == [id(k) for k in before]
        assert all(k.is_attached for k in after)
        assert second is first


async def test_the_kept_help_screen_shows_the_view_it_was_opened_from(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        services_help = await _open_and_close_help(pilot, app)
        assert services_help.help_title == "services"
        services_keys = list(services_help.keys)
        await settle(pilot, lambda: app.main.query_one("#logs") is not None)
        app.focus_pane("logs")
        await pilot.pause()
        logs_help = await _open_and_close_help(pilot, app)
        assert logs_help.help_title == "logs"
        assert logs_help.keys != services_keys


SIZES = [(80, 24), (100, 30), (120, 40), (160, 48)]
PANES = ("services", "logs", "metrics", "approvals", "rotation", "audit")


def _footer_settled(app: QuorumApp) -> bool:
    footer = app.main.query_one(KeyFooter)
    shown = [k for k in footer.query(FooterKey) if not k.has_class("-command-palette")]
    return (
        footer._shown is not None
        and footer._shown == footer._keys(app.screen)
        and [k.key for k in shown] == [e.key for e in footer._shown]
        and all(k.region.width for k in footer.query(FooterKey))
    )


async def test_no_footer_hides_help_or_cuts_a_key(tmp_path: Path) -> None:
    """At every size and with every pane focused `? Help` is on screen, every key shown is
    shown whole (none runs under the palette key or off the edge), and from 120 columns
    the focused pane's own keys are all there."""
    app = _app(tmp_path)
    async with app.run_test(size=SIZES[0]) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        await settle(pilot, lambda: app.main.query("#audit") and app.main.query(KeyFooter))
        for size in SIZES:
            await pilot.resize_terminal(*size)
            for name in PANES:
                app.focus_pane(name)
                pane = app.pane(name)
                await settle(
                    pilot, lambda size=size: app.main.size == size and _footer_settled(app)
                )
                footer = app.main.query_one(KeyFooter)
                keys = list(footer.query(FooterKey))
                palette = next(k for k in keys if k.has_class("-command-palette"))
                shown = {k.key: k for k in keys if k is not palette}
                where = f"{name} at {size[0]}x{size[1]}"
                assert "question_mark" in shown, f"? Help hidden: {where}"
                for key in shown.values():
                    assert key.region.x >= 0 and key.region.right <= palette.region.x, (
                        f"{key.key} cut: {where}"
                    )
                if size[0] >= 120:
                    said = {(k.action, k.description) for k in shown.values()}
                    missing = [
                        b.description
                        for b in type(pane).BINDINGS
                        if b.show
                        and not any(
                            action == b.action or (b.group and text == b.group.description)
                            for action, text in said
                        )
                    ]
                    assert not missing, f"{missing} missing: {where}"


async def test_typing_a_command_keeps_the_footer_and_a_dialog_opened_by_it_too(
    tmp_path: Path,
) -> None:
    """Keys typed into the `:` prompt are text, so the footer keeps the pane's keys
    while it is open, and a dialog the command opens does not leave it without `?`."""
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        await settle(pilot, lambda: app.main.query("#audit") and _footer_settled(app))
        before = [k.key for k in _footer_keys(app)]
        assert "question_mark" in before
        await pilot.press("colon", *"cal")
        await pilot.pause()
        assert [k.key for k in _footer_keys(app)] == before
        await pilot.press(*"endar", "enter")
        await settle(pilot, lambda: isinstance(app.screen, CalendarScreen))
        await pilot.pause()
        assert "question_mark" in [k.key for k in _footer_keys(app)]
