"""The `:` command table: one table, read from the panes, and every alias works."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.app import QuorumApp
from console.tui.commands import COMMANDS, CommandError, CommandTable, Parsed
from console.tui.keys import focused_pane
from tests.app_support import NOW, FakeProvider, make_session, settle, standard_targets
from widgets.dialogs.modals import PickScreen
from widgets.panes.approvals import ApprovalsPane
from widgets.panes.audit import AuditPane
from widgets.panes.logs import LogPane
from widgets.panes.metrics import MetricsPane
from widgets.panes.rotation import RotationPane
from widgets.panes.services import ServicesPane

PANES = {
    "services": ServicesPane,
    "logs": LogPane,
    "metrics": MetricsPane,
    "approvals": ApprovalsPane,
    "rotation": RotationPane,
    "audit": AuditPane,
}


def _table() -> CommandTable:
    return CommandTable((key, cls.COMMAND, cls.ALIASES) for key, cls in PANES.items())


def _pane_names() -> list[tuple[str, str]]:
    return [(name, key) for key, cls in PANES.items() for name in (key, cls.COMMAND, *cls.ALIASES)]


@pytest.mark.parametrize(("name", "pane"), _pane_names())
def test_every_name_a_pane_declares_opens_that_pane(name: str, pane: str) -> None:
    assert _table().resolve(f":{name}") == Parsed("pane", pane=pane)
    assert _table().resolve(name.upper()) == Parsed("pane", pane=pane)


@pytest.mark.parametrize(
    ("name", "command"), [(n, c.name) for c in COMMANDS for n in (c.name, *c.aliases)]
)
def test_every_console_command_alias_resolves(name: str, command: str) -> None:
    assert _table().resolve(f"{name} production") == Parsed(command, args=("production",))


def test_the_names_that_did_not_work_before_do() -> None:
    table = _table()
    assert table.resolve("on-call") == Parsed("pane", pane="rotation")
    assert table.resolve("pr") == Parsed("pane", pane="approvals")
    assert table.resolve("m") == Parsed("pane", pane="metrics")


def test_unknown_and_empty_lines() -> None:
    table = _table()
    assert table.resolve(":bogus") is None
    assert table.resolve("  ") == Parsed("pane")
    assert ":svc" in table.hint() and ":rotation" in table.hint()


def test_a_name_claimed_twice_is_refused() -> None:
    with pytest.raises(CommandError, match=":r is claimed twice"):
        CommandTable([("rotation", "rotation", ("r",))])  # `:r` is refresh
    with pytest.raises(CommandError, match=":x is claimed twice"):
        CommandTable([("logs", "logs", ("x",)), ("audit", "audit", ("x",))])


def test_completions_offer_panes_first_and_space_after_an_argument() -> None:
    suggested = _table().completions()
    assert suggested[0] == "svc" and "on-call" in suggested
    assert "env " in suggested and "ctx " in suggested and "quit" in suggested
    assert suggested.index("logs") < suggested.index("env ")


async def test_every_alias_typed_in_the_console_focuses_its_pane(tmp_path: Path) -> None:
    provider = FakeProvider("alpha", standard_targets(), tmp_path)
    app = QuorumApp(make_session(tmp_path / "data", [provider]), now=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        await settle(pilot, lambda: app.feeds.started)
        # Round robin over the panes, so each name has to move the focus itself.
        names = _pane_names()
        by_pane = [[n for n in names if n[1] == key] for key in PANES]
        order = [
            group[i] for i in range(max(map(len, by_pane))) for group in by_pane if i < len(group)
        ]
        for name, pane in order:
            if focused_pane(app) is app.pane(pane):
                other = "services" if pane != "services" else "audit"
                await pilot.press("colon", *other, "enter")
                await settle(pilot, lambda o=other: focused_pane(app) is app.pane(o))
            await pilot.press("colon", *name, "enter")
            await settle(pilot, lambda p=pane: focused_pane(app) is app.pane(p))
        assert not any("unknown command" in m for m in app.notices)


def _palette(app: QuorumApp) -> dict[str, object]:
    return {c.title: c for c in app.prompt.palette()}


async def test_the_palette_lists_every_command_of_the_table(tmp_path: Path) -> None:
    """ctrl+p is the `:` table: every pane, every command, every scope; each line runs
    the way the typed command does (`:messages` opens the notices)."""
    provider = FakeProvider("alpha", standard_targets(), tmp_path)
    app = QuorumApp(make_session(tmp_path / "data", [provider]), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        await settle(pilot, lambda: len(app.prompt.table.panes) == len(PANES))
        palette = _palette(app)
        helps = " ".join(str(c.help) for c in palette.values())
        for command in COMMANDS:
            assert f":{command.name}" in helps, command.name
        for key, cls in PANES.items():
            assert f"Go to {key}" in palette and f":{cls.COMMAND}" in helps
        assert {"Environment: staging", "Environment: all", "Provider (context): alpha"} <= set(
            palette
        )
        assert "Actions started and never finished, to resolve" in palette
        assert "Roll back the selected target (ctrl+l)" in palette
        palette["The latest notifications, newest first"].callback()
        await settle(pilot, lambda: isinstance(app.screen, PickScreen))
        assert app.screen.pick_title == "messages"


async def test_a_read_only_console_neither_offers_nor_runs_a_change(tmp_path: Path) -> None:
    provider = FakeProvider("alpha", standard_targets(), tmp_path)
    session = make_session(tmp_path / "data", [provider])
    session.readonly = True
    app = QuorumApp(session, now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        await settle(pilot, lambda: len(app.prompt.table.panes) == len(PANES))
        helps = " ".join(str(c.help) for c in _palette(app).values())
        for command in COMMANDS:
            assert (f":{command.name}" in helps) is not command.mutating, command.name
        await pilot.press("colon", *"rollback", "enter")
        await settle(pilot, lambda: any("read-only console: :rollback" in m for m in app.notices))
        assert app.screen is app.main


async def test_a_misspelt_command_or_scope_is_answered_with_the_near_name(tmp_path: Path) -> None:
    """As the command line answers `--env prod`: the near name, in the one line."""
    provider = FakeProvider("alpha", standard_targets(), tmp_path)
    app = QuorumApp(make_session(tmp_path / "data", [provider]), now=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        for typed, said in [
            ("veify", "unknown command :veify; did you mean :verify? (try "),
            ("env prod", "no environment 'prod'; did you mean 'production'? (known: "),
            ("ctx alpah", "no provider 'alpah'; did you mean 'alpha'? (known: alpha)"),
        ]:
            await pilot.press("colon", *typed, "enter")
            await settle(pilot, lambda s=said: any(s in m for m in app.notices))
        await pilot.press("colon", *"zzz", "enter")
        await settle(pilot, lambda: any("unknown command :zzz (try " in m for m in app.notices))
        assert app.prompt.environment is None and app.is_running
