"""The `?` help: built from the bindings active in the focused view, never a hand-kept list.

A key the view does not offer (a mutating key in read-only mode) is not listed as if
it were; the help screen is one instance, refilled for each `?` (see HelpScreen).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import App
from textual.screen import Screen

from console.tui.keys import focused_pane
from widgets.base.pane import Pane

if TYPE_CHECKING:
    from widgets.dialogs.help import HelpEntry


def help_entries(app: App) -> list[HelpEntry]:
    """Every binding active in the focused view, grouped by where it acts."""
    from widgets.dialogs.help import HelpEntry  # not needed for the first paint

    entries: list[HelpEntry] = []
    seen: set[tuple[str, str]] = set()
    for key, active in app.screen.active_bindings.items():
        node = active.node
        if isinstance(node, Pane):
            group = node.TITLE
        elif isinstance(node, App):
            group = "global"
        elif isinstance(node, Screen):
            group = "screen"
        else:
            group = getattr(node, "HELP_GROUP", type(node).__name__.lower())
        binding = active.binding
        if (group, key) in seen:
            continue
        seen.add((group, key))
        entries.append(
            HelpEntry(group, app.get_key_display(binding), binding.description or binding.action)
        )
    order = {"global": 0, "screen": 1}
    entries.sort(key=lambda e: (order.get(e.group, 2 if e.group.islower() else 3), e.group))
    return entries


def show_help(app: App, readonly: bool) -> None:
    """Open the help for the focused view."""
    from widgets.dialogs.help import HelpScreen

    entries = help_entries(app)
    notes = []
    if readonly:
        notes.append("Read-only: every mutating key is removed from this view.")
    notes.append("Esc closes a dialog, restores a zoomed pane, or clears a filter.")
    pane = focused_pane(app)
    title = pane.TITLE if pane is not None else "console"
    if not app.is_screen_installed("help"):
        app.install_screen(HelpScreen(title, entries, notes), "help")
    screen = app.get_screen("help")
    assert isinstance(screen, HelpScreen)
    screen.show(title, entries, notes)
    app.push_screen(screen)
