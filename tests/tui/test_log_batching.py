"""The log view batches lines that would scroll it: none lost, none reordered, at most
one scrolling redraw per `scroll_every`, and lines below a view that is not full yet
are drawn at once. The clock is the view's own, handed in, so no test waits on time."""

from __future__ import annotations

import random

from textual.app import App, ComposeResult
from textual.widgets import Input

from tests.app_support import line, settle, visible_text
from widgets.base.logview import LogView


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class LogApp(App[None]):
    def __init__(self, clock: Clock, scroll_every: float = 5.0) -> None:
        super().__init__()
        self.clock = clock
        self.scroll_every = scroll_every

    def compose(self) -> ComposeResult:
        # The only widget, so it has the focus: the same interval either way here.
        every = self.scroll_every
        yield LogView(scroll_every=every, scroll_every_focused=every, clock=self.clock)


def texts(lines) -> list[str]:
    return [entry.text for entry in lines]


async def test_lines_that_would_scroll_wait_for_the_interval_then_go_together() -> None:
    clock = Clock()
    app = LogApp(clock)
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(LogView)
        view.push([line(f"first {n}") for n in range(20)])
        # The first fill is drawn at once, scrolled to its end.
        await settle(pilot, lambda: visible_text(view)[-1].endswith("first 19"))

        for n in range(3):
            view.push([line(f"later {n}")])
            assert view.flush() == 0
        await pilot.pause()
        assert len(view.shown) == 20
        assert visible_text(view)[-1].endswith("first 19")

        clock.now += 5.0
        await settle(pilot, lambda: len(view.shown) == 23)
        assert [t.split()[-1] for t in visible_text(view)[-4:]] == ["19", "0", "1", "2"]


async def test_lines_below_a_view_that_is_not_full_are_drawn_at_once() -> None:
    clock = Clock()
    app = LogApp(clock, scroll_every=3600.0)
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(LogView)
        for n in range(5):
            view.push([line(f"row {n}")])
            await settle(pilot, lambda n=n: len(view.shown) == n + 1)
        assert [t.split()[-1] for t in visible_text(view)[:5]] == ["0", "1", "2", "3", "4"]


async def test_every_line_is_kept_in_order_however_lines_and_flushes_interleave() -> None:
    clock = Clock()
    app = LogApp(clock, scroll_every=1.0)
    rng = random.Random(16)
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(LogView)
        sent = 0
        while sent < 2_000:
            count = rng.choice((1, 1, 2, 7, 40))
            view.push([line(f"line {n}") for n in range(sent, sent + count)])
            sent += count
            if rng.random() < 0.5:
                view.flush()
            clock.now += rng.choice((0.0, 0.1, 0.5, 1.5))
            if rng.random() < 0.1:
                await pilot.pause()
        clock.now += 1.0
        await settle(pilot, lambda: visible_text(view)[-1].endswith(f"line {sent - 1}"))
        expected = [f"line {n}" for n in range(sent)]
        assert texts(view.lines) == expected
        assert texts(view.shown) == expected


class FocusApp(App[None]):
    """A log view beside another focusable widget, as the Logs pane sits beside Services."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield Input(id="elsewhere")
        yield LogView(scroll_every=3600.0, scroll_every_focused=0.0, clock=self.clock)


async def test_a_focused_log_is_drawn_as_lines_come_and_an_unfocused_one_waits() -> None:
    clock = Clock()
    app = FocusApp(clock)
    async with app.run_test(size=(40, 12)) as pilot:
        view = app.query_one(LogView)
        view.push([line(f"first {n}") for n in range(30)])
        await settle(pilot, lambda: visible_text(view)[-1].endswith("first 29"))

        app.query_one(Input).focus()
        await settle(pilot, lambda: not view.has_focus)
        view.push([line("while away")])
        await pilot.pause()
        assert view.flush() == 0  # nobody is reading it: held (the clock does not move)

        view.focus()
        await settle(pilot, lambda: visible_text(view)[-1].endswith("while away"))
        for n in range(3):
            view.push([line(f"read {n}")])
            await settle(pilot, lambda n=n: visible_text(view)[-1].endswith(f"read {n}"))
