"""The key footer: the keys that fit, most useful first, `?` always; rebuilt only when
the keys it shows change.

A stock footer lays every key out in a row and lets the terminal's edge cut the row
wherever it falls, so at 80 columns `? Help` and half of a pane's keys were simply
gone. Here the keys are ranked (`?` first, then `:`, then the focused pane's own keys,
then zoom, then the console's other keys) and only those that fit the row are shown,
whole, in that order; `?` lists every key anyway. Keys that belong together (a
`Binding.Group`, such as the log windows 0-6) share one entry.

Textual's footer rebuilds all of its key widgets whenever its screen says its
bindings were updated: on every return to the screen (closing `?` or a dialog), and
while a dialog covers it, when the keys it computes lack the app's own. Either way the
keys shown once the dialog closes are the same. Textual keeps each widget's rendered
lines in a process-wide cache keyed by the widget, so every discarded key widget stayed
in memory with its lines: about 0.7 MiB per `?` opened and closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from rich.cells import cell_len
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input
from textual.widgets._footer import FooterKey

# The command palette's key, docked at the right: its border, key, label and padding.
PALETTE_WIDTH = 12


@dataclass(frozen=True)
class Entry:
    """One key (or group of keys) as the footer shows it."""

    key: str  # the key a click simulates
    display: str
    description: str
    action: str
    enabled: bool
    rank: int

    @property
    def width(self) -> int:
        """Cells taken: the key padded by one on each side, the label and one space."""
        return cell_len(self.display) + 2 + cell_len(self.description) + 1


def rank(node: object, binding: Binding) -> int:
    """How much a key matters in the footer: 0 (help, always shown) to 4."""
    if binding.action == "help":
        return 0
    if binding.action.startswith("prompt(':')"):
        return 1
    if isinstance(node, App | Screen):
        return 4
    return 3 if binding.action == "zoom" else 2


def _group_display(keys: list[str]) -> str:
    return f"{keys[0]}-{keys[-1]}" if len(keys) > 3 else "/".join(keys)


def entries(app: App, screen: Screen) -> list[Entry]:
    """The shown keys of `screen`, one entry per action or binding group, ranked."""
    slots: dict[object, tuple[list[str], Entry]] = {}  # by binding group, else action
    seen: set[str] = set()
    for node, binding, enabled, _ in screen.active_bindings.values():
        if not binding.show or binding.action in seen:
            continue
        if binding.key == app.COMMAND_PALETTE_BINDING:
            continue  # docked on its own at the right
        seen.add(binding.action)
        display = app.get_key_display(binding)
        slot = binding.group if binding.group is not None else binding.action
        if slot in slots:
            slots[slot][0].append(display)
            continue
        description = binding.group.description if binding.group else binding.description
        entry = Entry(
            binding.key, display, description, binding.action, enabled, rank(node, binding)
        )
        slots[slot] = ([display], entry)
    out = [replace(entry, display=_group_display(keys)) for keys, entry in slots.values()]
    return sorted(out, key=lambda e: e.rank)  # stable: declared order within a rank


def fit(ranked: Iterable[Entry], width: int) -> list[Entry]:
    """The entries that fit `width` cells, most important first; help always."""
    shown: list[Entry] = []
    used = 0
    for entry in ranked:
        if entry.rank == 0 or used + entry.width <= width:
            shown.append(entry)
            used += entry.width
    return shown


class KeyFooter(Footer):
    """A `Footer` of whole keys, ranked, that skips a rebuild when they are unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple[Entry, ...] | None = None

    def _keys(self, screen: Screen) -> tuple[Entry, ...]:
        room = self.app.size.width - PALETTE_WIDTH
        return tuple(fit(entries(self.app, screen), room))

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        if self._shown is None or self.screen is self.app.screen:
            # A rebuild asked for before a dialog opened runs under it, where the
            # screen's keys lack the app's own: the keys already worked out stay.
            self._shown = self._keys(self.screen)
        for entry in self._shown:
            yield FooterKey(
                entry.key,
                entry.display,
                entry.description,
                entry.action,
                disabled=not entry.enabled,
            ).data_bind(compact=Footer.compact)
        palette = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE and palette is not None:
            _, binding, enabled, _ = palette
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                classes="-command-palette",
                disabled=not enabled,
            )

    def on_mount(self) -> None:
        # Textual's own handler (called after this one) subscribes to later changes.
        # Mounted after the screen's first frame, the footer missed the first one.
        self.bindings_changed(self.screen)

    def on_resize(self, event: events.Resize) -> None:
        """Another width fits other keys."""
        if self._shown is not None and self.screen is self.app.screen:
            self.bindings_changed(self.screen)

    def bindings_changed(self, screen: Screen) -> None:
        if screen is not screen.app.screen:
            # Under a dialog the keys are those of the screen's own focus chain without
            # the app's; they come back with the screen, so the keys shown stay.
            return
        if isinstance(screen.focused, Input) and self._shown is not None:
            # Typing in the `:` or `/` prompt, every key is text but Enter and Esc: the
            # keys of the pane the prompt was opened from stay until it closes.
            return
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            keys = self._keys(screen)
            if keys == self._shown:
                return
            self._shown = keys
        super().bindings_changed(screen)
