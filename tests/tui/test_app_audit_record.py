"""Enter on an audit record opens it whole: every field, an override's reason uncut and
inert, Esc back to the pane; `f` still zooms the pane, Enter no longer does."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from console.app import QuorumApp
from console.config.sandbox_team import sandbox_config
from console.store.audit import AuditLog
from tests.app_support import (
    NOW,
    FakeProvider,
    make_session,
    move_cursor,
    open_by_command,
    screen_lines,
    settle,
    standard_targets,
)
from widgets.dialogs.record import RecordScreen
from widgets.main import MainScreen

REASON = (
    "checkout is down for every customer since 02:51 and the fix is the revision we"
    " already ran in staging for an hour; paging the team now [bold red]x[/] \x1b[2J"
)


def _app(tmp_path: Path) -> QuorumApp:
    config = replace(sandbox_config(), providers=())
    provider = FakeProvider("alpha", standard_targets(), tmp_path)
    session = make_session(tmp_path / "data", [provider], config=config)
    return QuorumApp(session, now=lambda: NOW, poll_interval=0.5, side_interval=0.3)


async def test_enter_opens_an_audit_record_with_every_field(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        log = AuditLog(app.session.audit_path)
        log.append(who="bob", action="vote", target="alpha/api/production", comment="lgtm")
        await settle(pilot, lambda: "audit" in app.main.panes)
        await settle(pilot, lambda: app.audit_pane.table.keys == ["1"])
        log.append(
            who="alice",
            action="override",
            target="alpha/api/production",
            environment="production",
            revision="v2.2",
            outcome="approved",
            comment=REASON,
            key="override-7",
        )
        log.close()
        await settle(pilot, lambda: "audit" in app.main.panes)
        pane = app.audit_pane
        await settle(pilot, lambda: len(pane.table.keys) == 2)
        await open_by_command(pilot, "audit", pane)
        assert pane.table.cursor_key == "2"  # on the newest, though it came second
        move_cursor(pane.table, "2")
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, RecordScreen))
        assert app.screen.maximized is None  # Enter opened the record, it did not zoom
        fields = dict(app.screen.fields)
        record = pane.records[2]
        assert fields["reason"] == record.comment  # an override's comment is its reason, uncut
        assert record.comment.startswith(REASON[:100])
        assert (fields["who"], fields["action"], fields["revision"]) == (
            "alice",
            "override",
            "v2.2",
        )
        assert fields["key"] == "override-7"
        assert fields["hash"] == record.hash and fields["previous hash"] == record.prev_hash
        assert fields["time"].endswith("Z")
        # On screen: the whole reason across wrapped lines, as inert text.
        await settle(pilot, lambda: "already ran in staging" in "".join(screen_lines(app)))
        shown = " ".join(line.strip(" │") for line in screen_lines(app))
        assert "[bold red]x[/]" in shown and "\x1b" not in shown and "␛[2J" in shown
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, MainScreen))
        assert pane.has_focus_within
        # Another record in the same kept dialog, then `f` zooms the pane as before.
        move_cursor(pane.table, "1")
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, RecordScreen))
        assert dict(app.screen.fields)["comment"] == "lgtm"
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.press("f")
        await settle(pilot, lambda: app.screen.maximized is pane)
