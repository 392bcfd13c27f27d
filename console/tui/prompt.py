"""The `:` command and `/` filter prompt: what a line typed there does.

The table of names lives in console.tui.commands; this runs what it resolves to:
show a pane, scope Services (`:env`, `:provider`), or one of the console's commands.
The command palette (ctrl+p) lists the same table and runs its lines through `run`,
so a command behaves the same from either, read-only refusals included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.suggester import SuggestFromList

from console.domain.suggest import did_you_mean, nearest
from console.tui.commands import BY_NAME, COMMANDS, CommandTable
from console.tui.keys import focused_pane, read_only_refusal
from widgets.base.chrome import CommandBar
from widgets.base.filtering import FilterError
from widgets.base.pane import Pane
from widgets.main import LOWER, MainScreen
from widgets.panes.services import ServicesPane

if TYPE_CHECKING:
    from console.tui.host import Console


class Prompt:
    """Opens the prompt, applies a filter, runs a command, keeps the scope."""

    def __init__(self, app: Console, commands: dict[str, Callable[[], object]]) -> None:
        self.app = app
        self.commands = commands  # the console's commands by name (see COMMANDS)
        self.table = CommandTable([("services", ServicesPane.COMMAND, ServicesPane.ALIASES)])
        self.environment: str | None = None
        self.provider: str | None = None
        self._filter_target: Pane | None = None

    def read_panes(self, main: MainScreen) -> None:
        """Every pane is mounted: the table (and the prompt's suggestions) from them."""
        panes = main.panes
        order = [key for key in ("services", *LOWER) if key in panes]  # as on screen
        self.table = CommandTable(
            (key, type(panes[key]).COMMAND, type(panes[key]).ALIASES) for key in order
        )
        bar = main.query_one(CommandBar)
        bar.suggester = SuggestFromList(self.table.completions(), case_sensitive=False)

    def open(self, mode: str) -> None:
        app = self.app
        current = ""
        if mode == "/":
            pane = focused_pane(app)
            if pane is None or not hasattr(pane, "set_filter"):
                app.say("nothing to filter here: / works in services, logs and audit")
                return
            self._filter_target = pane
            current = getattr(pane, "filter_text", "")
        app.main.query_one(CommandBar).open(mode, current)

    def done(self, mode: str, value: str | None) -> None:
        """The prompt closed: apply the filter or run the command (None when cancelled)."""
        app = self.app
        if mode == "/":
            target = self._filter_target
            if value is not None and target is not None:
                try:
                    target.set_filter(value.strip())
                except FilterError as exc:  # said in one line; the text stays to fix
                    app.say(f"{exc}; the filter is unchanged", error=True)
                    app.main.query_one(CommandBar).open("/", value)
                    return
            if target is not None:
                target.focus_body()
            return
        if value is None:
            app.services.focus_body()
        else:
            self.run(value)
            # A command that moves no focus (`:env`, `:ctx`, a typo) must not leave the
            # keys with the closed prompt: they go back to Services, as after Esc.
            app.call_later(self._refocus)

    def _refocus(self) -> None:
        if isinstance(self.app.screen, MainScreen) and focused_pane(self.app) is None:
            self.app.services.focus_body()

    def run(self, text: str) -> bool:
        """Run a `:` command; False (with a one-line notice) when it is not understood."""
        app = self.app
        parsed = self.table.resolve(text)
        if parsed is None:
            name = text.strip().lstrip(":").split()[0].lower()
            near = nearest(name, self.table.names)
            guess = f"; did you mean :{near}?" if near else ""
            app.say(f"unknown command :{name}{guess} ({self.table.hint()})", error=True)
            return False
        if parsed.command == "pane":
            self.focus_pane(parsed.pane or (app.main.lower if not app.main.wide else "services"))
        elif parsed.command in ("env", "provider"):
            return self.scope(parsed.command, parsed.args[0] if parsed.args else None)
        elif (changes := BY_NAME[parsed.command].changes) and app.readonly:
            app.say(read_only_refusal(f":{parsed.command}"), error=True)
            return False
        elif changes and (refused := app.guard.ledger_refusal(changes)) is not None:
            app.say(refused, error=True)  # the ledger is out of reach: before any dialog
            return False
        else:
            self.commands[parsed.command]()
        return True

    def focus_pane(self, name: str) -> None:
        main = self.app.main
        if name in LOWER:
            main.show_lower(name)
        self.app.paint_chrome()
        main.query_one(f"#{name}", Pane).focus_body()

    def cycle(self, step: int) -> None:
        """Tab (1) or Shift-Tab (-1): the next or previous pane in screen order, focused,
        and in a narrow terminal shown under Services. A zoomed pane keeps the screen."""
        main = self.app.main
        if main.maximized is not None:
            return
        order = [name for name in ("services", *LOWER) if name in main.panes]
        pane = focused_pane(self.app)
        here = pane.id if pane is not None and pane.id in order else "services"
        self.focus_pane(order[(order.index(here) + step) % len(order)])

    def scope(self, what: str, name: str | None) -> bool:
        """`:env NAME` or `:provider NAME` (`all` clears): scope the Services table."""
        app = self.app
        label = "environment" if what == "env" else "provider"
        value = None if name in (None, "all", "*") else name
        if value is not None:
            known = app.feeds.known(label)
            if value not in known:
                app.say(
                    f"no {label} {value!r}{did_you_mean(value, known)} "
                    f"(known: {', '.join(known) or 'none yet'})",
                    error=True,
                )
                return False
        if what == "env":
            self.environment = value
        else:
            self.provider = value
        app.services.set_scope(self.environment, self.provider)
        app.paint_chrome()
        return True

    def palette(self) -> Iterable[SystemCommand]:
        """The command table as the command palette (ctrl+p) lists it: every pane, every
        command (each scope value spelled out), none that a read-only console refuses."""
        known = self.app.feeds.known
        for pane_id, command, aliases in self.table.panes:
            names = " ".join(f":{name}" for name in (command, *aliases))
            yield SystemCommand(f"Go to {pane_id}", names, lambda c=command: self.run(c))
        for command in COMMANDS:
            if command.mutating and self.app.readonly:
                continue
            names = " ".join(f":{name}" for name in (command.name, *command.aliases))
            if command.name in ("env", "provider"):
                label = "environment" if command.name == "env" else "provider"
                title = "Environment" if command.name == "env" else "Provider (context)"
                for value in (*known(label), "all"):
                    yield SystemCommand(
                        f"{title}: {value}",
                        f":{command.name} {value} · {command.does}",
                        lambda line=f"{command.name} {value}": self.run(line),
                    )
                continue
            title = command.does[0].upper() + command.does[1:]
            yield SystemCommand(title, names, lambda name=command.name: self.run(name))
