"""The Rotation pane: who holds each rotation now and next.

The pane lists every rotation's holder now, the next holder and a countdown to the
handoff, ticking every second from the slots the app computed (the schedule itself
is recomputed rarely). Its keys post typed requests; the console runs the forms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message

from console.domain.inert import neutralise
from console.domain.model import RotationSlot
from console.domain.wording import count
from widgets.base.format import countdown
from widgets.base.pane import Pane
from widgets.base.table import Column, KeyedTable

# The holder takes what the others leave; a rotation's and the next holder's names
# take what they need, and the countdown (`29d 21h`) its seven cells.
COLUMNS = [
    Column("rotation", "ROTATION", 20, fit=True),
    Column("holder", "HOLDER", 14, flex=True),
    Column("next", "NEXT", 24, priority=1, fit=True),
    Column("handoff", "HANDOFF", 7, justify="right"),
    Column("at", "AT (UTC)", 12, priority=2),
]


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
    """Who holds each rotation now and next; `c` calendar, `o` rotation override, `w`/`t`
    swaps."""

    TITLE = "rotation"
    COMMAND = "rotation"
    ALIASES = ("rot", "oncall", "on-call")
    MUTATING: ClassVar[Mapping[str, str]] = {
        "override": "override a rotation",
        "offer_swap": "request a swap",
        "take_swap": "take a swap",
    }

    BINDINGS = [
        Binding("c", "calendar", "Calendar"),
        Binding("o", "override", "Rotation override"),
        Binding("w", "offer_swap", "Offer swap"),
        Binding("t", "take_swap", "Take swap"),
    ]

    @dataclass
    class CalendarRequested(Message):
        """`c`: the month calendar of every rotation."""

    @dataclass
    class OverrideRequested(Message):
        """`o`: put someone on a rotation for a span (the selected rotation first)."""

        rotation: str | None

    @dataclass
    class SwapOfferRequested(Message):
        """`w`: offer part of one's own time on a rotation."""

        rotation: str | None

    @dataclass
    class SwapTakeRequested(Message):
        """`t`: take a swap someone offers."""

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

    def action_calendar(self) -> None:
        self.post_message(self.CalendarRequested())

    def action_override(self) -> None:
        self.post_message(self.OverrideRequested(self.selected))

    def action_offer_swap(self) -> None:
        self.post_message(self.SwapOfferRequested(self.selected))

    def action_take_swap(self) -> None:
        self.post_message(self.SwapTakeRequested())

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
        swaps = f" · {count(self.open_swaps, 'open swap')}, t to take" if self.open_swaps else ""
        self.set_title(f"rotation ({len(rows)}){swaps}")
        self.table.set_rows(rows)
