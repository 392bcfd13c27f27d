"""What reaches the terminal: only rows whose shown cells changed, scrollbars only when
their thumb moves, log lines in order and complete however they are batched."""

from __future__ import annotations

from pathlib import Path

from console.app import QuorumApp
from console.domain.model import CPU, MEMORY
from tests.app_support import (
    NOW,
    FakeProvider,
    make_session,
    move_cursor,
    settle,
    standard_targets,
    target,
)

KEY = "alpha/web/staging"


def _app(tmp_path: Path, *providers: FakeProvider) -> QuorumApp:
    session = make_session(tmp_path / "data", providers)
    return QuorumApp(session, now=lambda: NOW, poll_interval=0.05)


async def _quiet(pilot, alpha: FakeProvider) -> None:
    """Wait until the first polls are on screen and two more changed nothing."""
    table = pilot.app.services.table
    await settle(pilot, lambda: len(table.keys) == 4 and alpha.polls >= 3)
    polls = alpha.polls
    await settle(pilot, lambda: alpha.polls >= polls + 2)
    await pilot.pause()


async def test_a_row_whose_only_change_is_in_hidden_columns_is_not_redrawn(
    tmp_path: Path,
) -> None:
    alpha = FakeProvider("alpha", standard_targets(), tmp_path)
    app = _app(tmp_path, alpha)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.services.table
        await _quiet(pilot, alpha)
        shown = [c.key for c, _ in table.widths(table.scrollable_content_region.width)]
        assert CPU not in shown and MEMORY not in shown  # 80 columns: metrics are hidden
        repaints, drawn = table.repaints, table.drawn

        alpha.set("web", "staging", metrics={CPU: 88.0, MEMORY: 71.0})
        await settle(pilot, lambda: table.cells(KEY)[8:10] == ("88", "71"))
        await pilot.pause()
        assert (table.repaints, table.drawn) == (repaints, drawn)

        # A change in a shown column of the same row is drawn, and only that row.
        alpha.set("web", "staging", revision="v9.9")
        await settle(pilot, lambda: table.cells(KEY)[3] == "v9.9")
        await pilot.pause()
        assert table.repaints == repaints + 1
        assert table.drawn == drawn + 1


async def test_the_same_metric_change_is_drawn_where_its_column_shows(tmp_path: Path) -> None:
    alpha = FakeProvider("alpha", standard_targets(), tmp_path)
    app = _app(tmp_path, alpha)
    async with app.run_test(size=(200, 50)) as pilot:
        table = app.services.table
        await _quiet(pilot, alpha)
        assert CPU in [c.key for c, _ in table.widths(table.scrollable_content_region.width)]
        repaints, drawn = table.repaints, table.drawn

        alpha.set("web", "staging", metrics={CPU: 88.0, MEMORY: 71.0})
        await settle(pilot, lambda: table.cells(KEY)[8] == "88")
        await pilot.pause()
        assert table.repaints == repaints + 1
        assert table.drawn == drawn + 1


async def test_a_scrollbar_is_redrawn_when_its_thumb_moves_and_not_for_a_layout(
    tmp_path: Path,
) -> None:
    many = [target("alpha", f"svc-{n:02}", "production") for n in range(40)]
    alpha = FakeProvider("alpha", many, tmp_path)
    app = _app(tmp_path, alpha)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.services.table
        await settle(pilot, lambda: len(table.keys) == 40 and table.show_vertical_scrollbar)
        bar = table.vertical_scrollbar
        await settle(pilot, lambda: bar.paints > 0)
        await pilot.pause()
        painted = bar.paints

        # Laying the screen out again (a pane appearing, a title growing) moves no thumb.
        app.screen.refresh(layout=True)
        await pilot.pause()
        app.screen.refresh(layout=True)
        await pilot.pause()
        assert bar.paints == painted

        # Scrolling the rows moves the thumb: drawn again.
        move_cursor(table, table.keys[-1])
        await settle(pilot, lambda: bar.paints > painted)
        assert bar.thumb() is not None and bar.thumb()[0] > 0
