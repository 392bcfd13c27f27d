"""The Rotation pane and its month calendar.

The pane lists every rotation's holder now, the next holder and a countdown to the
handoff, ticking every second from the slots the app computed (the schedule itself
is recomputed rarely). The calendar shows a month grid, one line per rotation in
each day, with overrides, swaps, open swaps, handoffs and gaps marked.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from datetime import date, datetime

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.domain.inert import neutralise
from console.domain.model import RotationSlot
from widgets.pane import Pane
from widgets.table import Column, KeyedTable

COLUMNS = [
    Column("rotation", "ROTATION", 14),
    Column("holder", "HOLDER", 14, flex=True),
    Column("next", "NEXT", 14, priority=1),
    Column("handoff", "HANDOFF IN", 11, justify="right"),
    Column("at", "AT (UTC)", 12, priority=2),
]
MARKS = "⚑ override  ⇄ swap  ? open swap  » handoff  ∅ gap"


def countdown(now: datetime, then: datetime) -> str:
    """`then - now` as `3d 04h`, `4h 05m`, `12m 30s`; `now` once passed."""
    seconds = int((then - now).total_seconds())
    if seconds <= 0:
        return "now"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def holder_text(slot: RotationSlot) -> Text:
    if slot.gap or not slot.holder:
        return Text("∅ nobody (gap)", style="bold red")
    text = Text(neutralise(slot.holder), style="bold")
    if slot.override:
        text.append(" ⚑", style="magenta")
    if slot.swap:
        text.append(" ⇄", style="cyan")
    return text


class RotationPane(Pane):
    """Who holds each rotation now and next; `c` calendar, `o` override, `w`/`t` swaps."""

    TITLE = "rotation"
    COMMAND = "rotation"
    ALIASES = ("rot", "oncall", "on-call")
    MUTATING = frozenset({"override", "offer_swap", "take_swap"})

    BINDINGS = [
        Binding("c", "request('calendar')", "Calendar"),
        Binding("o", "request('override')", "Override"),
        Binding("w", "request('offer_swap')", "Offer swap"),
        Binding("t", "request('take_swap')", "Take swap"),
    ]

    def __init__(self, now: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.now = now
        self.slots: list[RotationSlot] = []
        self.open_swaps = 0

    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, empty_text="no rotation configured", id="rotation-table")

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    @property
    def selected(self) -> str | None:
        return self.table.cursor_key

    def show(self, slots: Sequence[RotationSlot], open_swaps: int = 0) -> None:
        self.slots = list(slots)
        self.open_swaps = open_swaps
        self.tick()

    def tick(self) -> None:
        """Repaint the countdowns (only rows whose text changed are sent)."""
        now = self.now()
        rows = []
        for slot in self.slots:
            nxt = Text(neutralise(slot.next_holder) if slot.next_holder else "∅ gap")
            rows.append(
                (
                    slot.rotation,
                    (
                        Text(neutralise(slot.rotation), style="cyan"),
                        holder_text(slot),
                        nxt,
                        Text(countdown(now, slot.handoff_at)),
                        Text(slot.handoff_at.strftime("%b %d %H:%M"), style="dim"),
                    ),
                )
            )
        swaps = f" · {self.open_swaps} open swap(s), t to take" if self.open_swaps else ""
        self.set_title(f"rotation ({len(rows)}){swaps}")
        self.table.set_rows(rows)


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
    for week in calendar.Calendar().monthdatescalendar(year, month):
        row = []
        for day in week:
            if day.month != month:
                row.append(Text(""))
                continue
            text = Text(f"{day.day:>2}", style="bold reverse" if day == today else "bold")
            for cell in by_day.get(day, []):
                text.append("\n")
                text.append_text(_cell_text(cell, len(rotations) > 1))
            row.append(text)
        table.add_row(*row)
    return table


def _cell_text(cell: object, with_rotation: bool) -> Text:
    marks = ""
    if cell.override:
        marks += "⚑"
    if cell.swap:
        marks += "⇄"
    if cell.open_swap:
        marks += "?"
    if cell.handoff:
        marks += "»"
    if cell.gap:
        marks += "∅"
    prefix = f"{cell.rotation[:3]}:" if with_rotation else ""
    who = " / ".join(h or "∅" for h in cell.holders) or "∅"
    style = "red" if cell.gap else "magenta" if cell.override else "cyan" if cell.swap else ""
    text = Text(f"{prefix}{neutralise(who)}", style=style)
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
        load: Callable[[int, int], Sequence[object]],
        rotations: Sequence[str],
        today: date,
    ) -> None:
        super().__init__()
        self.load = load
        self.rotations = list(rotations)
        self.today = today
        self.year, self.month = today.year, today.month

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog calendar") as box:
            box.border_title = "calendar"
            yield Static(id="calendar-grid")
            yield Static(Text(MARKS, style="dim"), classes="dialog-note")

    def on_mount(self) -> None:
        self.render_month()

    def render_month(self) -> None:
        try:
            cells = self.load(self.year, self.month)
        except Exception as exc:  # a broken schedule shows its error, not a traceback
            self.query_one("#calendar-grid", Static).update(Text(neutralise(str(exc))))
            return
        self.cells = list(cells)
        title = f"calendar · {calendar.month_name[self.month]} {self.year}"
        self.query_one(VerticalScroll).border_title = title
        self.query_one("#calendar-grid", Static).update(
            month_table(self.year, self.month, self.cells, self.rotations, self.today)
        )

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
