"""The `?` help: every binding of the view that was on screen, grouped by where it acts.

It is built from the live bindings, not from a hand-kept list, so a key the current
view does not offer (a mutating key in read-only mode) is not listed as if it were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.inert import neutralise


@dataclass(frozen=True)
class HelpEntry:
    group: str  # the pane or "global"
    key: str
    description: str


class HelpScreen(ModalScreen[None]):
    """A scrollable key table; Esc, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, title: str, entries: Sequence[HelpEntry], notes: Sequence[str] = ()):
        super().__init__()
        self.help_title = title
        self.entries = list(entries)
        self.notes = list(notes)

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold", expand=False)
        table.add_column("where", style="cyan")
        table.add_column("key", style="bold")
        table.add_column("does")
        last = None
        for entry in self.entries:
            table.add_row(
                entry.group if entry.group != last else "",
                Text(entry.key),
                Text(neutralise(entry.description)),
            )
            last = entry.group
        with VerticalScroll(classes="dialog help") as box:
            box.border_title = Text(f"help · {neutralise(self.help_title)}")
            yield Static(table, id="help-table")
            for note in self.notes:
                yield Static(Text(neutralise(note), style="italic"), classes="dialog-note")

    @property
    def keys(self) -> list[str]:
        return [e.key for e in self.entries]

    def action_close(self) -> None:
        self.dismiss(None)
