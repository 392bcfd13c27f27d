"""Finding one's way in a log at 3 a.m.: the filter stays in sight, a broken regex is an
error, each line names its pod, and a paused view says paused, once."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from console.app import QuorumApp
from console.domain.model import LogLine
from tests.app_support import (
    NOW,
    FakeProvider,
    line,
    make_session,
    open_by_command,
    screen_lines,
    settle,
    standard_targets,
    status_of,
    title_of,
    visible_text,
)
from widgets.base.chrome import CommandBar
from widgets.base.pane import Pane

POD = "api-46rb224t6v-vwqsb"


def _app(tmp_path: Path, lines: list[LogLine] | None = None) -> QuorumApp:
    lines = lines or [
        line("GET /orders 200", seconds=1),
        line("payment declined for order 17", level="ERROR", seconds=2),
    ]
    provider = FakeProvider("alpha", standard_targets(), tmp_path, lines=lines)
    return QuorumApp(make_session(tmp_path / "data", [provider]), now=lambda: NOW)


async def _logs_ready(pilot: Pilot, app: QuorumApp) -> None:
    await settle(pilot, lambda: "audit" in app.main.panes and len(app.logs.view.lines) >= 2)
    await settle(pilot, lambda: any(visible_text(app.logs.view)))


def _top_edge(app: QuorumApp, pane: Pane) -> str:
    """The pane's top border as painted on screen (where a long title is cut)."""
    return screen_lines(app)[pane.region.y][pane.region.x : pane.region.right]


def _border(app: QuorumApp, pane: Pane) -> str:
    """The pane's top and bottom edges as painted (title and status line)."""
    lines = screen_lines(app)
    return _top_edge(app, pane) + lines[pane.region.bottom - 1][pane.region.x : pane.region.right]


async def test_an_active_log_filter_heads_the_title_and_is_never_cut(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _logs_ready(pilot, app)
        await open_by_command(pilot, "logs", app.logs)
        await pilot.press("slash", *"declined", "enter")
        await settle(pilot, lambda: app.logs.filter_text == "declined")
        await pilot.press("w", "t")  # more flags: the title grows past the pane's width
        await settle(pilot, lambda: title_of(app.logs).endswith("ts"))
        assert len(title_of(app.logs)) > app.logs.region.width  # so the edge cuts it
        await settle(pilot, lambda: "logs /declined/ api@production" in _top_edge(app, app.logs))


@pytest.mark.parametrize("pane_name", ["logs", "services", "audit"])
async def test_an_invalid_regex_is_an_error_and_the_text_is_kept(
    tmp_path: Path, pane_name: str
) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _logs_ready(pilot, app)
        pane = app.pane(pane_name)
        await open_by_command(pilot, pane_name, pane)
        await pilot.press("slash", *"api|declined", "enter")
        await settle(pilot, lambda: pane.filter_text == "api|declined")
        await settle(pilot, lambda: pane.has_focus_within)
        await pilot.press("slash", "ctrl+u", *"([", "enter")
        await settle(pilot, lambda: any("invalid regex '(['" in n for n in app.notices))
        error = next(n for n in app.notices if "invalid regex" in n)
        assert "\n" not in error and "the filter is unchanged" in error
        bar = app.main.query_one(CommandBar)
        assert bar.display and bar.value == "(["  # the text stays, to be fixed
        assert pane.filter_text == "api|declined"
        await pilot.press("escape")
        await settle(pilot, lambda: not bar.display)
        assert pane.filter_text == "api|declined"


async def test_log_lines_name_their_pod_compactly_in_a_narrow_pane(tmp_path: Path) -> None:
    lines = [
        LogLine(ts=NOW, text="GET /orders 200", level="INFO", source=POD),
        LogLine(ts=NOW, text="cache warmed", level="INFO", source=f"{POD}/sidecar"),
    ]
    app = _app(tmp_path, lines)
    async with app.run_test(size=(80, 24)) as pilot:
        await _logs_ready(pilot, app)
        await open_by_command(pilot, "logs", app.logs)
        assert visible_text(app.logs.view)[:2] == [
            "INFO  vwqsb GET /orders 200",
            "INFO  vwqsb/sidecar cache warmed",
        ]
        await pilot.press("f")  # zoomed at 80 columns: still narrow, still compact
        await settle(pilot, lambda: app.screen.maximized is app.logs)
        assert visible_text(app.logs.view)[0] == "INFO  vwqsb GET /orders 200"


async def test_a_wide_log_view_shows_the_whole_pod_name(tmp_path: Path) -> None:
    lines = [
        LogLine(ts=NOW, text="GET /orders 200", level="INFO", source=POD),
        LogLine(ts=NOW, text="cache warmed", level="INFO", source=POD),
    ]
    app = _app(tmp_path, lines)
    async with app.run_test(size=(160, 48)) as pilot:
        await _logs_ready(pilot, app)
        await open_by_command(pilot, "logs", app.logs)
        assert visible_text(app.logs.view)[0] == "INFO  vwqsb GET /orders 200"
        await pilot.press("f")
        await settle(pilot, lambda: app.screen.maximized is app.logs)
        await settle(pilot, lambda: visible_text(app.logs.view)[0].startswith(f"INFO  {POD} "))


async def test_pause_is_one_state_on_the_border(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _logs_ready(pilot, app)
        await open_by_command(pilot, "logs", app.logs)
        assert "following" in title_of(app.logs) and "paused" not in title_of(app.logs)
        await pilot.press("s")
        await settle(pilot, lambda: "paused" in title_of(app.logs))
        assert app.notices[-1].endswith("paused: new lines arrive below, s follows again")
        assert "following" not in title_of(app.logs) + status_of(app.logs)
        await settle(pilot, lambda: "paused" in _border(app, app.logs))
        assert "following" not in _border(app, app.logs)
        await pilot.press("s")
        await settle(pilot, lambda: "following" in title_of(app.logs))
        assert "paused" not in title_of(app.logs) + status_of(app.logs)


async def test_the_filter_finds_what_the_line_shows_its_level_and_its_pod(
    tmp_path: Path,
) -> None:
    lines = [
        LogLine(ts=NOW, text="GET /orders 200", level="INFO", source=POD),
        LogLine(ts=NOW, text="slow GET /cart", level="WARN", source="api-46rb224t6v-x2x4q"),
        LogLine(ts=NOW, text="GET /health 200", level="INFO", source="api-46rb224t6v-x2x4q"),
    ]
    app = _app(tmp_path, lines)
    async with app.run_test(size=(80, 24)) as pilot:
        await _logs_ready(pilot, app)
        await open_by_command(pilot, "logs", app.logs)
        await pilot.press("slash", *"warn", "enter")
        await settle(pilot, lambda: app.logs.filter_text == "warn")
        assert [ln.text for ln in app.logs.view.shown] == ["slow GET /cart"]
        await pilot.press("slash", "ctrl+u", *"x2x4q", "enter")
        await settle(pilot, lambda: app.logs.filter_text == "x2x4q")
        assert [ln.text for ln in app.logs.view.shown] == ["slow GET /cart", "GET /health 200"]
