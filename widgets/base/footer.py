"""The key footer, rebuilt only when the keys it shows change.

Textual's footer rebuilds all of its key widgets whenever its screen says its
bindings were updated: on every return to the screen (closing `?` or a dialog), and
while a dialog covers it, when the keys it computes lack the app's own. Either way the
keys shown once the dialog closes are the same. Textual keeps each widget's rendered
lines in a process-wide cache keyed by the widget, so every discarded key widget stayed
in memory with its lines: about 0.7 MiB per `?` opened and closed.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    """A `Footer` that skips a rebuild when the shown keys are unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple[tuple[str, str, str, bool], ...] | None = None

    def _keys(self, screen: Screen) -> tuple[tuple[str, str, str, bool], ...]:
        return tuple(
            (binding.key, binding.description, binding.action, enabled)
            for (_, binding, enabled, _) in screen.active_bindings.values()
            if binding.show
        )

    def on_mount(self) -> None:
        # Textual's own handler (called after this one) subscribes to later changes.
        # Mounted after the screen's first frame, the footer missed the first one.
        self.bindings_changed(self.screen)

    def bindings_changed(self, screen: Screen) -> None:
        if screen is not screen.app.screen:
            # Under a dialog the keys are those of the screen's own focus chain without
            # the app's; they come back with the screen, so the keys shown stay.
            return
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            keys = self._keys(screen)
            if keys == self._shown:
                return
            self._shown = keys
        super().bindings_changed(screen)
