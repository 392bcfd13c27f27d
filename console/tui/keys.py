"""The read-only guard: which keys change something, and what a refused key says.

One place for the rule. `--readonly` (or a read-only provider) hides every mutating
binding from the footer and the help, and a mutating key pressed anyway gets one line
saying why instead of nothing. A pane declares its mutating actions (`MUTATING`);
the app's own are `APP_MUTATING`, also when a pane binds them (`app.restart`).
"""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.widgets import Input

from widgets.base.pane import Pane

# Bound by the app (rollback) or by the Services pane as `app.restart`, `app.scale`
# and `app.canary`.
APP_MUTATING: frozenset[str] = frozenset({"rollback", "restart", "scale", "canary"})


def is_mutating(owner: DOMNode, action: str) -> bool:
    """Whether `action`, bound on `owner`, changes something."""
    name = action.partition("(")[0]
    if name.startswith("app."):
        return name.removeprefix("app.") in APP_MUTATING
    if isinstance(owner, Pane):
        return name in owner.MUTATING
    return name in APP_MUTATING


class ReadOnlyGuard:
    """Allows every action, or (read-only) none that changes something."""

    def __init__(self, readonly: bool) -> None:
        self.readonly = readonly

    def allows(self, owner: DOMNode, action: str) -> bool:
        return not (self.readonly and is_mutating(owner, action))

    def refusal(self, focused: DOMNode | None, app: App, key: str) -> str | None:
        """The line for a mutating key pressed in a read-only console, else None.

        The focused widget's chain is searched first (a pane's `o` is its own), then
        the app's bindings, as Textual itself resolves a key."""
        if not self.readonly:
            return None
        owners: list[DOMNode] = []
        node = focused
        while node is not None:
            if isinstance(node, Pane):
                owners.append(node)
            node = node.parent
        owners.append(app)
        for owner in owners:
            for binding in type(owner).BINDINGS:
                if (
                    isinstance(binding, Binding)
                    and key in binding.key.split(",")
                    and is_mutating(owner, binding.action)
                ):
                    return read_only_refusal(binding.description.lower())
        return None


def read_only_refusal(what: str) -> str:
    """The one line a change refused by a read-only console gets, key or command."""
    return (
        f"read-only console: {what} is disabled"
        " (started with --readonly or the provider is read-only)"
    )


def prompt_allowed(app: App, main_screen: type) -> bool:
    """`:` and `/` open the prompt only on the main screen and outside a text field
    (where they are text)."""
    return isinstance(app.screen, main_screen) and not isinstance(app.focused, Input)


def focused_pane(app: App) -> Pane | None:
    """The pane holding the focus, if any."""
    node = app.focused
    while node is not None:
        if isinstance(node, Pane):
            return node
        node = node.parent
    return None
