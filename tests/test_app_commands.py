"""The `:` command table: one table, read from the panes, and every alias works."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.app import QuorumApp
from console.tui.commands import COMMANDS, CommandError, CommandTable, Parsed
from console.tui.keys import focused_pane
from tests.app_support import NOW, FakeProvider, make_session, settle, standard_targets
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
