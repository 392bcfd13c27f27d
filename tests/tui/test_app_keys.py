"""Global keys: help per view, command mode, the palette, panes, zoom, read-only."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.command import CommandPalette

from console.app import QuorumApp
from console.config.sandbox_team import sandbox_config
from console.tui.keys import focused_pane
from tests.app_support import NOW, FakeProvider, make_session, settle, standard_targets
from widgets.base.chrome import STRIP_LABELS, CommandBar, TopBar
from widgets.dialogs.help import HelpScreen
from widgets.dialogs.modals import PickScreen
from widgets.main import MainScreen


def _app(tmp_path: Path, readonly: bool = False) -> QuorumApp:
    config = replace(sandbox_config(), providers=())
    provider = FakeProvider("alpha", standard_targets(), tmp_path)
    session = make_session(tmp_path / "data", [provider], readonly=readonly, config=config)
    return QuorumApp(session, now=lambda: NOW, poll_interval=0.05)


async def _help_keys(pilot, app: QuorumApp) -> dict[str, list[str]]:
    await pilot.press("question_mark")
    await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
    groups: dict[str, list[str]] = {}
    for entry in app.screen.entries:
        groups.setdefault(entry.group, []).append(entry.key)
    await pilot.press("escape")
    await settle(pilot, lambda: isinstance(app.screen, MainScreen))
    return groups


async def test_help_lists_the_bindings_of_the_current_view(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        groups = await _help_keys(pilot, app)
        assert {"N", "S", "A", "l", "f", "⏎"} <= set(groups["services"])
        assert {"?", ":", "/", "^r", "q"} <= set(groups["global"])
        assert "logs" not in groups
        await pilot.press("l")
        await settle(pilot, lambda: app.focused is app.logs.view)
        groups = await _help_keys(pilot, app)
        assert {"s", "w", "t", "0", "1", "2", "3", "4", "5", "6", "^s"} <= set(groups["logs"])
        assert "services" not in groups
        await pilot.press("colon", *"rotation", "enter")
        await settle(pilot, lambda: focused_pane(app) is app.pane("rotation"))
        groups = await _help_keys(pilot, app)
        assert {"c", "o", "w", "t"} <= set(groups["rotation"])


async def test_command_mode_switches_panes(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        for command, pane in [
            ("logs", "logs"),
            ("metrics", "metrics"),
            ("apr", "approvals"),
            ("rot", "rotation"),
            ("audit", "audit"),
            ("svc", "services"),
        ]:
            await pilot.press("colon", *command, "enter")
            await settle(pilot, lambda p=pane: focused_pane(app) is app.pane(p))
            if pane != "services":
                assert app.screen.lower == pane
                assert app.pane(pane).display
        bar = app.screen.query_one(CommandBar)
        assert not bar.display
        await pilot.press("colon", *"bogus", "enter")
        assert any("unknown command :bogus" in m for m in app.notices)
        await pilot.press("colon")
        assert bar.display and app.focused is bar
        await pilot.press("escape")
        assert not bar.display


async def test_palette_offers_the_same_commands(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        await settle(pilot, lambda: len(app.prompt.table.panes) == 6)
        titles = {c.title: c for c in app.get_system_commands(app.screen)}
        assert {"Go to logs", "Environment: production", "Provider (context): alpha"} <= set(titles)
        titles["Environment: production"].callback()
        assert app.prompt.environment == "production"
        assert {r for r in app.services.table.keys} == {
            "alpha/api/production",
            "alpha/billing/production",
        }
        await pilot.press("ctrl+p")
        await settle(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"go to audit", "enter")
        await settle(pilot, lambda: focused_pane(app) is app.pane("audit"))


async def test_tab_moves_between_panes_and_zoom_works_everywhere(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        seen = []
        for _ in range(6):
            await pilot.press("tab")
            pane = focused_pane(app)
            if pane is not None:
                seen.append(pane.id)
        assert {"approvals", "logs", "rotation", "audit"} <= set(seen)
        await pilot.press("colon", *"audit", "enter")
        await settle(pilot, lambda: focused_pane(app) is app.pane("audit"))
        await pilot.press("f")
        assert app.screen.maximized is app.pane("audit")
        await pilot.press("escape")
        assert app.screen.maximized is None


async def test_readonly_removes_mutating_keys_and_says_why(tmp_path: Path) -> None:
    app = _app(tmp_path, readonly=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        await pilot.press("colon", *"rotation", "enter")
        await settle(pilot, lambda: focused_pane(app) is app.pane("rotation"))
        groups = await _help_keys(pilot, app)
        assert "c" in groups["rotation"]  # the calendar only reads
        assert not {"o", "w", "t"} & set(groups["rotation"])
        await pilot.press("o")
        assert isinstance(app.screen, MainScreen)  # no override form opened
        assert any("read-only console: rotation override is disabled" in m for m in app.notices)
        await pilot.press("colon", *"apr", "enter")
        await settle(pilot, lambda: focused_pane(app) is app.pane("approvals"))
        await pilot.press("a")
        assert any("read-only console: approve" in m for m in app.notices)


async def test_q_quits(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        await pilot.press("q")
        await settle(pilot, lambda: not app.is_running)
    assert app.return_code == 0


async def test_clicking_the_pane_strip_shows_that_pane(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        bar = app.screen.query_one("#top-bar")
        plain = str(bar.render())
        x = plain.index(" audit ") + 2
        await pilot.click("#top-bar", offset=(x, 0))
        await settle(pilot, lambda: app.screen.lower == "audit")
        assert focused_pane(app) is app.pane("audit")


async def test_messages_keeps_notices_after_their_toasts_fade(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        await pilot.press("colon", *"bogus", "enter")
        app.clear_notifications()
        await pilot.press("colon", *"messages", "enter")
        await settle(pilot, lambda: isinstance(app.screen, PickScreen))
        assert "unknown command :bogus" in app.screen.options[0][1]


def _strip_current(app: QuorumApp) -> str:
    """The pane the top bar's strip marks as shown (in reverse video)."""
    bar = app.main.query_one(TopBar).render()
    marked = [
        bar.plain[span.start : span.end].strip()
        for span in bar.spans
        if "reverse" in str(span.style) and "Quorum" not in bar.plain[span.start : span.end]
    ]
    assert len(marked) == 1, marked
    return marked[0]


async def test_tab_shows_each_lower_pane_in_turn_at_80x24(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        await settle(pilot, lambda: "audit" in app.main.panes)
        order = ["logs", "metrics", "approvals", "rotation", "audit"]
        for name in order:
            await pilot.press("tab")
            await settle(pilot, lambda n=name: focused_pane(app) is app.pane(n))
            shown = [pane.id for pane in app.main.panes.values() if pane.display]
            assert sorted(shown) == sorted(["services", name])
            assert _strip_current(app) == STRIP_LABELS.get(name, name)
        await pilot.press("tab")
        await settle(pilot, lambda: focused_pane(app) is app.services)
        await pilot.press("shift+tab")
        await settle(pilot, lambda: focused_pane(app) is app.pane("audit"))
        await pilot.press("shift+tab")
        await settle(pilot, lambda: focused_pane(app) is app.pane("rotation"))
        assert app.main.lower == "rotation"


async def test_tab_in_the_prompt_completes_the_command(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: "audit" in app.main.panes)
        bar = app.main.query_one(CommandBar)
        await pilot.press("colon", *"rot")
        await settle(pilot, lambda: bar._suggestion == "rotation")
        await pilot.press("tab")
        assert bar.display and bar.has_focus and bar.value == "rotation"
        await pilot.press("enter")
        await settle(pilot, lambda: focused_pane(app) is app.pane("rotation"))
