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

from console.domain.inert import neutralise


@dataclass(frozen=True)
class HelpEntry:
    group: str  # the pane or "global"
    key: str
    description: str


class HelpScreen(ModalScreen[None]):
    """A scrollable key table; Esc, q or ? closes it.

    The app keeps one instance and refills it for each `?` (`show`): Textual keeps
    each widget's rendered lines in a process-wide cache keyed by the widget, so a
    new screen per `?` left about 0.7 MiB behind every time it was opened.
    """

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, title: str, entries: Sequence[HelpEntry], notes: Sequence[str] = ()):
        super().__init__()
        self.help_title = title
        self.entries = list(entries)
        self.notes = list(notes)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help") as box:
            box.border_title = self._title_text()
            yield Static(self._table(), id="help-table")
            yield Static(self._notes_text(), id="help-notes", classes="dialog-note")

    def show(self, title: str, entries: Sequence[HelpEntry], notes: Sequence[str] = ()) -> None:
        """New content for the next time this screen is on screen."""
        self.help_title = title
        self.entries = list(entries)
        self.notes = list(notes)
        if self.is_mounted:
            self.query_one(VerticalScroll).border_title = self._title_text()
            self.query_one("#help-table", Static).update(self._table())
            self.query_one("#help-notes", Static).update(self._notes_text())

    def _title_text(self) -> Text:
        return Text(f"help · {neutralise(self.help_title)}")

    def _table(self) -> Table:
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
        return table

    def _notes_text(self) -> Text:
        return Text("\n".join(neutralise(note) for note in self.notes), style="italic")

    @property
    def keys(self) -> list[str]:
        return [e.key for e in self.entries]

    def action_close(self) -> None:
        self.dismiss(None)
