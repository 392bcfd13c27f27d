"""The frame every pane shares: a titled box that zooms full-screen and back.

Zoom is Textual's own maximise (Esc restores); a pane carries its border title and
an optional one-line status at the bottom edge so the body keeps every row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical

from console.domain.inert import neutralise


class Pane(Vertical):
    """A titled pane; `f` or Enter zooms it, Esc restores the layout."""

    ALLOW_MAXIMIZE = True
    # What a user types after `:` to open this pane, and its aliases: the console's
    # command table is built from these (console.tui.commands).
    COMMAND = ""
    ALIASES: tuple[str, ...] = ()
    TITLE = ""
    # Actions that change something, each with the change as the engine names it (the
    # words of its refusal); the console's guard removes them when read-only and
    # refuses them while the ledger is out of reach.
    MUTATING: ClassVar[Mapping[str, str]] = {}

    BINDINGS = [
        Binding("f,enter", "zoom", "Zoom"),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._shown_title: str | None = None
        self._shown_status = ""
        self.set_title(self.TITLE)
        # Whether an action of this pane may run now: the console installs its
        # change guard here, so the rule lives in one place (console.tui.keys).
        self.guard: Callable[[Pane, str], bool | None] | None = None

    def action_zoom(self) -> None:
        screen = self.screen
        if screen.maximized is self:
            screen.minimize()
        else:
            screen.maximize(self, container=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.guard is None or self.guard(self, action)

    def set_title(self, text: str) -> None:
        """The top edge, as plain text: a backend name in it can never become markup.

        Setting a border title repaints the whole box (every row of the body), so an
        unchanged title is not set again: a poll that changes nothing sends nothing.
        """
        text = neutralise(text)
        if text != self._shown_title:
            self._shown_title = text
            self.border_title = Text(text)

    def set_status(self, text: str) -> None:
        """One line at the bottom edge, plain text like the title (and, like it, set
        only when it changes)."""
        text = neutralise(text) if text else ""
        if text != self._shown_status:
            self._shown_status = text
            self.border_subtitle = Text(text) if text else None

    def focus_body(self) -> None:
        """Focus the pane's main widget (its first focusable child) at once, not later,
        so keys typed right after a command already reach the pane."""
        target = next((c for c in self.query("*") if c.focusable), self)
        if target.focusable:
            self.screen.set_focus(target)
