"""The rotation calendar: a month grid, one line per rotation in each day.

Overrides, swaps, open swaps, handoffs and gaps are marked. The month is read off
the console's event loop (the schedule reads the ledger), so paging through months
never freezes the keys.
"""

from __future__ import annotations

import calendar
from collections.abc import Awaitable, Callable, Sequence
from datetime import date

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.domain.inert import neutralise

MARKS = "⚑ override  ⇄ swap  ? open swap  » handoff (who takes over)  ∅ gap"


def tags(rotations: Sequence[str]) -> dict[str, str]:
    """Each rotation's tag in a day cell: the fewest leading letters, the same number
    for all, that tell the rotations apart ("I", "O"; "ON", "OP")."""
    names = [neutralise(r).upper() for r in rotations]
    for size in range(1, max((len(n) for n in names), default=0) + 1):
        if len({n[:size] for n in names}) == len(names):
            return {r: n[:size] for r, n in zip(rotations, names, strict=True)}
    return {r: str(i + 1) for i, r in enumerate(rotations)}  # names that repeat


def month_table(
    year: int, month: int, cells: Sequence[object], rotations: Sequence[str], today: date
) -> Table:
    """A week-per-row grid; each day lists each rotation's holder with its marks."""
    table = Table(box=None, expand=True, show_lines=True, pad_edge=False, padding=(0, 1))
    for name in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"):
        table.add_column(name, ratio=1, overflow="ellipsis", no_wrap=True)
    by_day: dict[date, list[object]] = {}
    for cell in cells:
        by_day.setdefault(cell.day, []).append(cell)
    tag = tags(rotations) if len(rotations) > 1 else {}
    for week in calendar.Calendar().monthdatescalendar(year, month):
        row = []
        for day in week:
            if day.month != month:
                row.append(Text(""))
                continue
            text = Text(f"{day.day:>2}", style="bold reverse" if day == today else "bold")
            for cell in by_day.get(day, []):
                text.append("\n")
                text.append_text(_cell_text(cell, tag.get(cell.rotation, "")))
            row.append(text)
        table.add_row(*row)
    return table


def legend(cells: Sequence[object], rotations: Sequence[str]) -> Text:
    """Above the grid, whole: each rotation's tag and name, and who holds it this month in
    order (a day cell has room for a few letters of a name)."""
    tag = tags(rotations) if len(rotations) > 1 else {}
    holders: dict[str, list[str]] = {r: [] for r in rotations}
    for cell in sorted(cells, key=lambda c: c.day):
        for who in cell.holders:
            if who and who not in holders.setdefault(cell.rotation, []):
                holders[cell.rotation].append(who)
    text = Text()
    for rotation, people in holders.items():
        if text:
            text.append("\n")
        if tag.get(rotation):
            text.append(f"{tag[rotation]} ", style="bold")
        text.append(neutralise(rotation), style="cyan")
        text.append(f": {neutralise(', '.join(people)) or '∅ nobody'}")
    return text


def _cell_text(cell: object, tag: str) -> Text:
    marks = ""
    if cell.override:
        marks += "⚑"
    if cell.swap:
        marks += "⇄"
    if cell.open_swap:
        marks += "?"
    if cell.gap:
        marks += "∅"
    # On a handoff day, who takes over: the one to call from then on.
    who = next((h for h in reversed(cell.holders) if h), "∅")
    style = "red" if cell.gap else "magenta" if cell.override else "cyan" if cell.swap else ""
    text = Text(f"{tag} " if tag else "", style="bold dim")
    if cell.handoff:
        text.append("»", style="bold")
    text.append(neutralise(who), style=style)
    if marks:
        text.append(f" {marks}", style="bold")
    return text


class CalendarScreen(ModalScreen[None]):
    """A month of every rotation; `[`/`]` or ←/→ move by month, Esc closes."""

    BINDINGS = [
        Binding("escape,q,c", "close", "Close"),
        Binding("left,left_square_bracket,p", "move(-1)", "Previous month"),
        Binding("right,right_square_bracket,n", "move(1)", "Next month"),
        Binding("home,t", "today", "This month"),
    ]

    def __init__(
        self,
        load: Callable[[int, int], Awaitable[Sequence[object]]],
        rotations: Sequence[str],
        today: date,
    ) -> None:
        super().__init__()
        self.load = load
        self.rotations = list(rotations)
        self.today = today
        self.year, self.month = today.year, today.month

    def compose(self) -> ComposeResult:
        # The legend first and the marks on the frame: at 80x24 a six-week month fills
        # the dialog, and whatever scrolls out of view should be days, not the names.
        with VerticalScroll(classes="dialog calendar") as box:
            box.border_title = "calendar"
            box.border_subtitle = Text(MARKS)
            yield Static(id="calendar-legend", classes="dialog-note")
            yield Static(id="calendar-grid")

    def on_mount(self) -> None:
        self.render_month()

    @work(exclusive=True, group="calendar", exit_on_error=False)
    async def render_month(self) -> None:
        try:
            cells = await self.load(self.year, self.month)
        except Exception as exc:  # a broken schedule shows its error, not a traceback
            self.query_one("#calendar-grid", Static).update(Text(neutralise(str(exc))))
            return
        self.cells = list(cells)
        title = f"calendar · {calendar.month_name[self.month]} {self.year}"
        self.query_one(VerticalScroll).border_title = title
        self.query_one("#calendar-grid", Static).update(
            month_table(self.year, self.month, self.cells, self.rotations, self.today)
        )
        self.query_one("#calendar-legend", Static).update(legend(self.cells, self.rotations))

    def action_move(self, delta: int) -> None:
        index = self.year * 12 + self.month - 1 + delta
        self.year, self.month = divmod(index, 12)
        self.month += 1
        self.render_month()

    def action_today(self) -> None:
        self.year, self.month = self.today.year, self.today.month
        self.render_month()

    def action_close(self) -> None:
        self.dismiss(None)
