"""One audit record, whole: every field on its own line, long values wrapped, never cut.

The Audit pane's columns cut a comment (an override's reason) and leave out the key
and the hashes; Enter on a row opens this. Values arrive as plain text and are shown
as `Text`, never markup, so a comment cannot fake a piece of the screen.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.domain.inert import neutralise


class RecordScreen(ModalScreen[None]):
    """An audit record's fields; Esc, q or Enter closes it.

    One instance is kept and refilled for each record (`show`), as the describe
    screen is: a new screen each time would keep its rendered lines alive.
    """

    DEFAULT_CSS = "RecordScreen { align: center middle; }"
    BINDINGS = [Binding("escape,q,enter", "close", "Close")]

    def __init__(self, title: str, fields: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.fields = list(fields)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog") as box:
            box.border_title = Text(neutralise(self.title_text))
            box.border_subtitle = Text("Esc closes")
            yield Static(self._table(), id="record-fields")

    def show(self, title: str, fields: Sequence[tuple[str, str]]) -> None:
        """New content for the next time this screen is on screen."""
        self.title_text, self.fields = title, list(fields)
        if self.is_mounted:
            box = self.query_one(VerticalScroll)
            box.border_title = Text(neutralise(title))
            box.scroll_home(animate=False)
            self.query_one("#record-fields", Static).update(self._table())

    def _table(self) -> Table:
        table = Table(box=None, show_header=False, expand=True)
        table.add_column(style="cyan", no_wrap=True)
        table.add_column(overflow="fold", ratio=1)
        for label, value in self.fields:
            table.add_row(Text(label), Text(neutralise(value) if value else "-"))
        return table

    def action_close(self) -> None:
        self.dismiss(None)
