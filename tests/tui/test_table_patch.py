"""A keyed table applies rows that come and go as a patch: what reaches the screen is
what a table built afresh from the same rows shows, the cursor keeps its key, and a
row added or removed draws that row, not every row on screen."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal

from tests.app_support import settle
from widgets.base.table import Column, KeyedTable, Row

COLUMNS = [
    Column("id", "ID", 3, justify="right"),
    Column("who", "WHO", 10, fit=True),
    Column("what", "WHAT", 10, flex=True),
    Column("n", "N", 8, priority=1),
]
WIDTH, HEIGHT = 40, 12  # a header and 11 rows: longer lists scroll
WHO = ["al", "bob", "carolina"]
WHAT = ["deploy", "scale", "a rather long change"]


class Tables(App):
    """Two tables side by side: the one patched, and one built afresh to compare.
    Neither has the focus, so both draw the cursor alike."""

    AUTO_FOCUS = None

    CSS = f"""
    Horizontal {{ height: {HEIGHT}; }}
    KeyedTable {{ width: {WIDTH}; height: {HEIGHT}; }}
    """

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield KeyedTable(COLUMNS, id="patched")
            yield KeyedTable(COLUMNS, id="fresh")


def _rows(numbers: list[tuple[int, int, int, int]]) -> tuple[list[Row], set[str]]:
    """Rows in key order (where a new one lands among the others), and the dimmed keys."""
    rows, dim = [], set()
    for n, who, what, count in sorted(numbers):
        key = f"k{n}"
        rows.append(
            (key, (Text(str(n)), Text(WHO[who]), Text(WHAT[what], style="bold"), Text(f"+{count}")))
        )
        if count % 3 == 0:
            dim.add(key)
    return rows, dim


def _cells(app: App, left: int) -> list[list[tuple[str, object]]]:
    """What the terminal shows of one table: every cell's character and style."""
    out = []
    for strip in app.screen._compositor.render_strips()[:HEIGHT]:
        line = []
        for segment in strip.crop(left, left + WIDTH):
            line.extend((char, segment.style) for char in segment.text)
        out.append(line)
    return out


def _nearest(old: list[str], at: int, new: list[str]) -> str | None:
    """Where the cursor goes when its row went: the next row below that is left (it
    took the place), else the nearest above, else the row now at its index."""
    left = set(new)
    for key in [*old[at + 1 :], *reversed(old[:at])]:
        if key in left:
            return key
    return new[min(at, len(new) - 1)] if new else None


async def _check(steps: list[tuple[list[tuple[int, int, int, int]], int]]) -> None:
    app = Tables()
    async with app.run_test(size=(2 * WIDTH, HEIGHT + 2)) as pilot:
        table = app.query_one("#patched", KeyedTable)
        for numbers, moves in steps:
            table.action_cursor(moves)
            before, at, key = table.keys, table._cursor, table.cursor_key
            top, visible = int(table.scroll_y), HEIGHT - 1
            rows, dim = _rows(numbers)
            table.set_rows(rows, dim)

            keys = [k for k, _ in rows]
            assert table.keys == keys
            assert all(table.cells(k) == tuple(c.plain for c in cells) for k, cells in rows)
            if key in keys:
                assert table.cursor_key == key
            elif before:
                assert table.cursor_key == _nearest(before, at, keys)
            cursor = table._cursor
            if top <= at < top + visible and keys:
                assert int(table.scroll_y) <= cursor < int(table.scroll_y) + visible
            if top <= cursor < top + visible and top <= table.max_scroll_y:
                assert int(table.scroll_y) == top  # nothing needed the view to move

            await app.query_one("#fresh").remove()
            fresh = KeyedTable(COLUMNS, id="fresh")
            await app.query_one(Horizontal).mount(fresh)
            await settle(pilot, lambda f=fresh: f.size.height == HEIGHT)
            fresh.set_rows(rows, dim)
            if table.cursor_key is not None:
                fresh.select(table.cursor_key)
            fresh.scroll_to(y=table.scroll_y, animate=False, immediate=True, force=True)
            assert int(fresh.scroll_y) == int(table.scroll_y)
            # Each scrollbar settles its thumb after the handler that moved it.
            await settle(pilot, lambda: _cells(app, 0) == _cells(app, WIDTH), limit=10)


ROW = st.tuples(
    st.integers(0, 30),
    st.integers(0, len(WHO) - 1),
    st.integers(0, len(WHAT) - 1),
    st.integers(0, 9),
)
STEP = st.tuples(st.lists(ROW, max_size=24, unique_by=lambda r: r[0]), st.integers(-8, 8))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEP, min_size=2, max_size=6))
def test_a_patched_table_shows_what_a_fresh_one_shows(steps) -> None:
    # Rows inserted, removed and changed in random sequences, the cursor moved between.
    asyncio.run(_check(steps))


class One(App):
    CSS = f"KeyedTable {{ width: {WIDTH}; height: {HEIGHT}; }}"

    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS)


def _numbers(*ns: int) -> list[tuple[int, int, int, int]]:
    return [(n, 0, 0, 1) for n in ns]


async def test_a_row_coming_or_going_draws_only_that_row() -> None:
    app = One()
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        table = app.query_one(KeyedTable)
        table.set_rows(*_rows(_numbers(0, 2, 4, 6, 8, 10, 12, 14)))
        table.select("k8")
        await settle(pilot, lambda: table.drawn >= 8)
        await pilot.pause()

        # A row inserted in the middle: it is drawn; those below move down from the cache.
        drawn = table.drawn
        lines = table.set_rows(*_rows(_numbers(0, 2, 4, 5, 6, 8, 10, 12, 14)))
        await pilot.pause()
        assert lines == 6  # the new row's line and the five below it
        assert table.drawn == drawn + 1
        assert table.cursor_key == "k8"

        # A row removed: the rows below move up, and nothing is drawn again.
        drawn = table.drawn
        lines = table.set_rows(*_rows(_numbers(0, 4, 5, 6, 8, 10, 12, 14)))
        await pilot.pause()
        assert lines == 8  # from its line to the last, which is now empty
        assert table.drawn == drawn
        assert table.cursor_key == "k8"

        # The cursor's own row removed: it goes to the row that took its place.
        lines = table.set_rows(*_rows(_numbers(0, 4, 5, 6, 10, 12, 14)))
        await pilot.pause()
        assert table.cursor_key == "k10"


async def test_rows_coming_and_going_off_screen_repaint_nothing() -> None:
    app = One()
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        table = app.query_one(KeyedTable)
        table.set_rows(*_rows(_numbers(*range(0, 30, 2))))
        await settle(pilot, lambda: table.drawn >= HEIGHT - 1)
        await pilot.pause()
        drawn = table.drawn
        assert table.set_rows(*_rows(_numbers(*range(0, 30, 2), 31))) == 0
        assert table.set_rows(*_rows(_numbers(*range(0, 28, 2), 29))) == 0
        await pilot.pause()
        assert table.drawn == drawn


async def test_the_cursor_stays_in_view_when_the_table_gets_fewer_lines() -> None:
    app = One()
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        table = app.query_one(KeyedTable)
        table.set_rows(*_rows(_numbers(*range(20))))
        table.select("k10")  # the last row in view
        await settle(pilot, lambda: table.size.height == HEIGHT)
        assert int(table.scroll_y) == 0
        table.styles.height = HEIGHT - 3
        await settle(pilot, lambda: table.size.height == HEIGHT - 3)
        await pilot.pause()
        assert int(table.scroll_y) <= 10 < int(table.scroll_y) + HEIGHT - 4
        assert table.cursor_key == "k10"
