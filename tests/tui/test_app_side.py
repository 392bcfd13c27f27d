"""Metrics plots with thresholds, the live audit pane with verify, the rotation pane and
its calendar, overrides and swaps made from the keyboard."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from textual.geometry import Region

from console.app import QuorumApp
from console.config.sandbox_team import sandbox_config
from console.domain.settings import NotifyConfig
from console.rotation import schedule as rotation
from console.store.audit import AuditLog
from tests.app_support import (
    NOW,
    FakeProvider,
    make_session,
    move_cursor,
    open_by_command,
    settle,
    standard_targets,
    title_of,
)
from widgets.dialogs.calendar import CalendarScreen
from widgets.dialogs.modals import FormScreen, PickScreen
from widgets.panes.audit import AuditPane
from widgets.panes.metrics import MetricChart
from widgets.panes.rotation import RotationPane


def _app(tmp_path: Path, **kw: object) -> QuorumApp:
    config = replace(sandbox_config(), providers=())
    provider = FakeProvider("alpha", standard_targets(), tmp_path)
    session = make_session(tmp_path / "data", [provider], config=config)
    return QuorumApp(session, now=lambda: NOW, poll_interval=0.5, side_interval=0.3, **kw)


async def test_metrics_plots_carry_values_and_thresholds(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, lambda: app.metrics.fetches >= 1)
        charts = {c.metric: c for c in app.metrics.query(MetricChart)}
        assert charts["cpu"].values == [20, 30, 40, 95]
        assert charts["cpu"].levels == (70.0, 90.0)
        assert charts["p99"].levels == (500.0, 1000.0)
        # Drawn for the room the layout gives it, redrawn when that changes.
        await settle(pilot, lambda: "┄warn" in charts["cpu"].render().plain)
        rendered = charts["cpu"].render()
        assert rendered.plain.startswith("CPU% 95.0 ┄warn 70 ┄crit 90")  # stacked, wide
        assert "┄┄┄" in rendered.plain  # the threshold lines cross the plot
        # The newest bar passes the critical line and is drawn in red.
        spans = [s for s in rendered.spans if str(s.style) == "red"]
        assert spans
        assert "api@production" in title_of(app.metrics)


async def test_audit_pane_is_live_filterable_and_verifies(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        log = AuditLog(app.session.audit_path)
        log.append(who="alice", action="deploy", target="alpha/api/staging", outcome="started")
        log.append(who="alice", action="deploy", target="alpha/api/staging", outcome="finished")
        log.append(who="bob", action="vote", target="alpha/api/production", comment="lgtm")
        await settle(pilot, lambda: app.screen.query_one(AuditPane) is not None)
        pane = app.screen.query_one(AuditPane)
        await settle(pilot, lambda: len(pane.table.keys) == 3)
        assert pane.table.keys == ["3", "2", "1"]  # newest first
        assert pane.table.cells("3")[2:4] == ("bob", "vote")
        log.append(who="carol", action="rollback", target="alpha/web/staging", outcome="finished")
        await settle(pilot, lambda: pane.table.keys[:1] == ["4"])
        await open_by_command(pilot, "audit", lambda: app.pane("audit"))
        await pilot.press("slash", *"alice", "enter")
        assert pane.table.keys == ["2", "1"]
        await pilot.press("escape", "v")
        await settle(pilot, lambda: pane.verdict != "")
        assert pane.verdict == "chain intact: 4 records verified"
        log.close()


async def test_rotation_pane_shows_holders_countdowns_and_calendar(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, lambda: app.screen.query_one(RotationPane) is not None)
        pane = app.screen.query_one(RotationPane)
        await settle(pilot, lambda: len(pane.table.keys) == 2)
        expected = rotation.slots_at(app.session.config, NOW, app.session.audit_path)
        for slot in expected:
            cells = pane.table.cells(slot.rotation)
            assert cells[1] == slot.holder
            assert cells[2] == slot.next_holder
        # The seeds' schedule: March is devops-coordinator's, April consensus-coordinator's.
        infra = pane.table.cells("infrastructure")
        assert infra[1:4] == ("devops-coordinator", "consensus-coordinator", "29d 15h")
        await open_by_command(pilot, "rotation", lambda: app.pane("rotation"))
        await pilot.press("c")
        await settle(pilot, lambda: isinstance(app.screen, CalendarScreen))
        calendar = app.screen
        assert (calendar.year, calendar.month) == (2026, 3)
        march = {c.day: c for c in calendar.cells if c.rotation == "infrastructure"}
        assert march[date(2026, 3, 15)].holder == "devops-coordinator"
        await pilot.press("]")
        assert (calendar.year, calendar.month) == (2026, 4)
        april = {c.day: c for c in calendar.cells if c.rotation == "infrastructure"}
        assert april[date(2026, 4, 1)].holder == "consensus-coordinator"
        assert april[date(2026, 4, 1)].handoff is True
        await pilot.press("[", "[")
        assert (calendar.year, calendar.month) == (2026, 2)
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, CalendarScreen))


async def test_override_and_swaps_from_the_rotation_pane(tmp_path: Path) -> None:
    app = _app(tmp_path)
    me = app.identity.name
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, lambda: app.screen.query_one(RotationPane) is not None)
        pane = app.screen.query_one(RotationPane)
        await settle(pilot, lambda: len(pane.table.keys) == 2)
        await open_by_command(pilot, "rotation", lambda: app.pane("rotation"))
        move_cursor(pane.table, "on-call")
        await pilot.press("o")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        assert [f.value for f in form.fields[:2]] == ["on-call", me]
        await pilot.press("enter", "enter", "enter", "enter", "enter")  # no reason yet
        assert isinstance(app.screen, FormScreen)
        await pilot.press(*"covering for bob", "enter")
        await settle(pilot, lambda: pane.table.cells("on-call")[1] == f"{me} ⚑")
        records = AuditLog(app.session.audit_path).tail()
        assert any(r.action == "rotation.override" and r.target == "on-call" for r in records)
        # Offer the first hours of that override as a swap, then try to take it oneself.
        # The form offers the rotation this person holds, wherever the cursor is.
        other = next(key for key in pane.table.keys if key != "on-call")
        move_cursor(pane.table, other)
        await pilot.press("w")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        assert app.screen.fields[0].value == "on-call"
        assert "Enter" in str(app.screen.query_one(".dialog-hint").render())
        end = (NOW + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%MZ")
        await pilot.press("enter", "enter", *("backspace",) * 17, *end, "enter", "enter")
        await settle(pilot, lambda: pane.open_swaps == 1)
        await pilot.press("t")
        await settle(pilot, lambda: isinstance(app.screen, PickScreen))
        assert me in app.screen.options[0][1]
        await pilot.press("enter")
        refused = "cannot be taken by the person who offered it"
        await settle(pilot, lambda: any(refused in m for m in app.notices))
        assert pane.open_swaps == 1


async def test_a_bad_date_in_the_override_form_is_said_in_the_form(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, lambda: app.screen.query_one(RotationPane) is not None)
        pane = app.screen.query_one(RotationPane)
        await settle(pilot, lambda: len(pane.table.keys) == 2)
        await open_by_command(pilot, "rotation", lambda: app.pane("rotation"))
        await pilot.press("o")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        await pilot.press("enter", "enter", *("backspace",) * 17, *"next tuesday", "enter")
        await pilot.press("enter", *"why not", "enter")
        error = form.query_one("#form-error")
        await settle(pilot, lambda: "not a date" in str(error.render()))
        # Said in the form, which stays open with what was typed.
        assert app.screen is form and form.query_one("#f-reason").value == "why not"
        assert form.query_one("#f-starts").value == "next tuesday"


async def test_a_rotation_change_tells_the_team(tmp_path: Path, httpserver, monkeypatch) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_json({"ok": True})
    monkeypatch.setenv("QUORUM_TEST_HOOK", httpserver.url_for("/hook"))
    config = replace(
        sandbox_config(), providers=(), notify=(NotifyConfig("webhook", "QUORUM_TEST_HOOK"),)
    )
    provider = FakeProvider("alpha", standard_targets(), tmp_path)
    session = make_session(tmp_path / "data", [provider], config=config)
    app = QuorumApp(session, now=lambda: NOW, poll_interval=0.5, side_interval=0.3)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, lambda: app.screen.query_one(RotationPane) is not None)
        pane = app.screen.query_one(RotationPane)
        await settle(pilot, lambda: len(pane.table.keys) == 2)
        await open_by_command(pilot, "rotation", lambda: app.pane("rotation"))
        await pilot.press("o")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press("enter", "enter", "enter", "enter", *"dentist", "enter")
        await settle(pilot, lambda: len(httpserver.log) == 1)
        body = httpserver.log[0][0].get_json()
        assert body["title"] == f"infrastructure: override, {app.identity.name} holds it"
        assert body["text"].endswith(": dentist") and app.identity.name in body["text"]


async def test_audit_actions_are_read_whole_in_a_narrow_pane(tmp_path: Path) -> None:
    """At 120x40 the audit pane is about 30 cells wide: the seconds and then the
    `rotation.` prefix give way, never the end of an action's name; at 160x48 it is whole."""
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        log = AuditLog(app.session.audit_path)
        log.append(who="alice", action="rotation.override", target="on-call", outcome="recorded")
        log.append(who="bob", action="rotation.override.cancel", target="on-call", outcome="x")
        log.append(who="carol", action="vote", target="alpha/api/production", outcome="ok")
        await settle(pilot, lambda: app.screen.query_one(AuditPane) is not None)
        pane = app.screen.query_one(AuditPane)
        await settle(pilot, lambda: len(pane.table.keys) == 3)

        def shown() -> list[str]:
            return [pane.table.render_line(y).text.rstrip() for y in range(1, 4)]

        await settle(pilot, lambda: "rot.override.cancel" in shown()[1])
        lines = shown()  # newest first
        assert lines[0].split()[1:3] == ["carol", "vote"], lines
        assert lines[1].split()[1:] == ["bob", "rot.override.cancel"], lines
        assert lines[2].split()[1:] == ["alice", "rot.override"], lines
        assert len(lines[0].split()[0]) == len("09:00")
        await pilot.resize_terminal(160, 48)
        await settle(pilot, lambda: "rotation.override.cancel" in shown()[1])
        when, who, action = shown()[1].split()[:3]
        assert (len(when), who, action) == (len("09:00:00"), "bob", "rotation.override.cancel")
        await open_by_command(pilot, "audit", app.pane("audit"))
        await pilot.press("slash", *"rotation.override.cancel", "enter")
        await settle(pilot, lambda: pane.table.keys == ["2"])
        log.close()


async def test_the_calendar_at_80x24_tags_rotations_and_names_holders_whole(
    tmp_path: Path,
) -> None:
    """Day cells have room for a few letters: each rotation gets a tag that tells it from
    the others, and the legend above the grid names every holder of the month whole."""
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: app.screen.query(RotationPane))
        await open_by_command(pilot, "rotation", app.pane("rotation"))
        await pilot.press("c")
        await settle(pilot, lambda: isinstance(app.screen, CalendarScreen))
        calendar = app.screen
        await settle(pilot, lambda: bool(getattr(calendar, "cells", None)))

        def painted(selector: str) -> list[str]:
            widget = calendar.query_one(selector)
            width, height = widget.content_size
            return [s.text.rstrip() for s in widget.render_lines(Region(0, 0, width, height))]

        await settle(
            pilot, lambda: any("infrastructure" in line for line in painted("#calendar-legend"))
        )
        grid = "\n".join(painted("#calendar-grid"))
        assert "on-:" not in grid and "inf:" not in grid
        assert "O " in grid and "I " in grid
        holders: dict[str, list[str]] = {}
        for cell in sorted(calendar.cells, key=lambda c: c.day):
            for who in cell.holders:
                if who and who not in holders.setdefault(cell.rotation, []):
                    holders[cell.rotation].append(who)
        legend = painted("#calendar-legend")
        assert legend[0] == f"I infrastructure: {', '.join(holders['infrastructure'])}"
        assert legend[1] == f"O on-call: {', '.join(holders['on-call'])}"


async def test_rotation_names_take_the_room_they_need_at_100x30(tmp_path: Path) -> None:
    """Columns of names are as wide as their longest name: the holder and the next
    holder of every rotation are read whole."""
    app = _app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: app.screen.query(RotationPane))
        pane = app.screen.query_one(RotationPane)
        await open_by_command(pilot, "rotation", pane)
        await settle(pilot, lambda: len(pane.table.keys) == 2)
        header = pane.table.render_line(0).text
        assert header.split() == ["ROTATION", "HOLDER", "NEXT", "HANDOFF", "AT", "(UTC)"]
        for y, slot in enumerate(pane.slots, start=1):
            line = pane.table.render_line(y).text
            assert slot.holder in line and slot.next_holder in line, line
            assert "…" not in line, line
