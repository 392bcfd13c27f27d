"""The change guard: which keys change something, and what a refused key says.

One place for the rule. `--readonly` (or a read-only provider) hides every mutating
binding from the footer and the help, and a mutating key pressed anyway gets one line
saying why instead of nothing. While the team's ledger is out of reach the same keys
are shown disabled, and one pressed gets the engine's own refusal of that change
before any dialog opens or any read is tried. A pane declares its mutating actions
(`MUTATING`, each with the change as the engine names it); the app's own are
`APP_MUTATING`, also when a pane binds them (`app.restart`).
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.widgets import Input

from widgets.base.pane import Pane

# Bound by the app (rollback) or by the Services pane as `app.restart`, `app.scale`
# and `app.canary`.
APP_MUTATING: dict[str, str] = {
    "rollback": "roll back",
    "restart": "restart",
    "scale": "scale",
    "canary": "act on a canary",
}


def change_of(owner: DOMNode, action: str) -> str | None:
    """The change `action`, bound on `owner`, makes ("vote"), None when it reads only."""
    name = action.partition("(")[0]
    if name.startswith("app."):
        return APP_MUTATING.get(name.removeprefix("app."))
    if isinstance(owner, Pane):
        return owner.MUTATING.get(name)
    return APP_MUTATING.get(name)


class ChangeGuard:
    """Allows every action; none that changes something in a read-only console; and
    while `ledger_refusal` gives a reason (the ledger is out of reach), such actions
    are shown but not run, so their key reaches `refusal`."""

    def __init__(
        self, readonly: bool, ledger_refusal: Callable[[str], str | None] = lambda doing: None
    ) -> None:
        self.readonly = readonly
        self.ledger_refusal = ledger_refusal

    def allows(self, owner: DOMNode, action: str) -> bool | None:
        """True, False (hidden: read-only) or None (shown disabled: the ledger is out of
        reach, Textual's third answer to `check_action`)."""
        doing = change_of(owner, action)
        if doing is None:
            return True
        if self.readonly:
            return False
        return None if self.ledger_refusal(doing) is not None else True

    def refusal(self, focused: DOMNode | None, app: App, key: str) -> str | None:
        """The line for a mutating key pressed in a read-only console or while the
        ledger is out of reach, else None.

        The focused widget's chain is searched first (a pane's `o` is its own), then
        the app's bindings, as Textual itself resolves a key."""
        owners: list[DOMNode] = []
        node = focused
        while node is not None:
            if isinstance(node, Pane):
                owners.append(node)
            node = node.parent
        owners.append(app)
        for owner in owners:
            for binding in type(owner).BINDINGS:
                if not isinstance(binding, Binding) or key not in binding.key.split(","):
                    continue
                doing = change_of(owner, binding.action)
                if doing is None:
                    continue
                if self.readonly:
                    return read_only_refusal(binding.description.lower())
                return self.ledger_refusal(doing)
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
