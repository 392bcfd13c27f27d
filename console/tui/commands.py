"""The `:` command table: every name and alias, read from the panes and the console.

k9s keeps its command interpreter apart with an alias table; so does Quorum. A pane
declares the name that opens it (`COMMAND`) and its aliases (`ALIASES`); the console's
own commands are declared below. `CommandTable` joins both, refuses a name claimed
twice, and resolves what a person typed into one `Parsed` for the app to run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """A console command: its name, aliases, and whether it takes an argument."""

    name: str
    aliases: tuple[str, ...] = ()
    argument: str = ""  # shown in the hint; the completion adds a space after the name


COMMANDS = (
    Command("env", ("ns", "environment"), argument="NAME|all"),
    Command("provider", ("ctx", "context"), argument="NAME|all"),
    Command("calendar", ("cal",)),
    Command("incomplete", ("crash",)),
    Command("messages", ("msg", "notices")),
    Command("refresh", ("r",)),
    Command("help", ("h",)),
    Command("quit", ("q", "q!", "exit")),
)


@dataclass(frozen=True)
class Parsed:
    """What a typed line means: a pane to show (`pane`) or a command with arguments."""

    command: str  # "pane" or a Command's name
    pane: str = ""
    args: tuple[str, ...] = ()


class CommandError(ValueError):
    """Two commands or panes claim one name."""


class CommandTable:
    """Names → panes and commands; built again when the panes change."""

    def __init__(self, panes: Iterable[tuple[str, str, Iterable[str]]]) -> None:
        """`panes`: (pane id, its COMMAND, its ALIASES) for every mounted pane."""
        self.names: dict[str, Parsed] = {}
        self.pane_names: list[str] = []
        self._suggested: list[str] = []
        for pane_id, command, aliases in panes:
            self.pane_names.append(command)
            for name in (command, pane_id, *aliases):
                self._claim(name, Parsed("pane", pane=pane_id), allow_same=True)
        for command in COMMANDS:
            for name in (command.name, *command.aliases):
                self._claim(name, Parsed(command.name))
                self._suggested.append(name + (" " if command.argument else ""))

    def _claim(self, name: str, meaning: Parsed, *, allow_same: bool = False) -> None:
        name = name.lower()
        known = self.names.get(name)
        if known is not None and not (allow_same and known == meaning):
            raise CommandError(f":{name} is claimed twice")
        if known is None and meaning.command == "pane":
            self._suggested.append(name)
        self.names[name] = meaning

    def resolve(self, text: str) -> Parsed | None:
        """The meaning of a typed line (a leading `:` is allowed); None when unknown."""
        words = text.strip().lstrip(":").split()
        if not words:
            return Parsed("pane")
        meaning = self.names.get(words[0].lower())
        if meaning is None:
            return None
        return Parsed(meaning.command, meaning.pane, tuple(words[1:]))

    def completions(self) -> list[str]:
        """What the prompt suggests, first match first: the panes' names and aliases,
        then the commands' (with a space after those that take an argument)."""
        return list(self._suggested)

    def hint(self) -> str:
        """The line an unknown command gets."""
        panes = ", ".join(f":{name}" for name in self.pane_names)
        return f"try {panes}, :env NAME, :ctx NAME, :help"
