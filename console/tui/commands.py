"""The `:` command table: every name and alias, read from the panes and the console.

k9s keeps its command interpreter apart with an alias table; so does Quorum. A pane
declares the name that opens it (`COMMAND`) and its aliases (`ALIASES`); the console's
own commands are declared below. `CommandTable` joins both, refuses a name claimed
twice, and resolves what a person typed into one `Parsed` for the app to run. The
command palette (ctrl+p) is made from the same table, so the two never differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """A console command: its name, aliases, whether it takes an argument, what it does
    (the palette's line), and the change it makes as the engine names it ("restart";
    empty when it only reads): refused read-only, and while the ledger is out of reach."""

    name: str
    aliases: tuple[str, ...] = ()
    argument: str = ""  # shown in the hint; the completion adds a space after the name
    does: str = ""
    changes: str = ""

    @property
    def mutating(self) -> bool:
        return bool(self.changes)


COMMANDS = (
    Command("env", ("ns", "environment"), "NAME|all", "show one environment in Services"),
    Command("provider", ("ctx", "context"), "NAME|all", "show one provider in Services"),
    Command("describe", ("desc",), does="pods and events of the selected target (d)"),
    Command("restart", (), does="restart the selected target (r in Services)", changes="restart"),
    Command("scale", (), does="scale the selected target (s in Services)", changes="scale"),
    Command(
        "rollback", ("undo",), does="roll back the selected target (ctrl+l)", changes="roll back"
    ),
    Command(
        "propose",
        ("new",),
        does="propose a deploy of the selected target (n)",
        changes="propose a change",
    ),
    Command(
        "silence",
        (),
        does="silence a firing alert for a while, with a comment",
        changes="silence an alert",
    ),
    Command("verify", (), does="verify the audit log's hash chain (v in Audit)"),
    Command("calendar", ("cal",), does="the month calendar of every rotation"),
    Command("incomplete", ("crash",), does="actions started and never finished, to resolve"),
    Command("messages", ("msg", "notices"), does="the latest notifications, newest first"),
    Command("refresh", ("r",), does="poll every provider now (ctrl+r)"),
    Command("help", ("h",), does="every key of the focused view (?)"),
    Command("quit", ("q", "q!", "exit"), does="leave the console (q)"),
)
BY_NAME = {command.name: command for command in COMMANDS}


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
        self.panes: list[tuple[str, str, tuple[str, ...]]] = []  # as given, for the palette
        self._suggested: list[str] = []
        for pane_id, command, aliases in panes:
            self.pane_names.append(command)
            self.panes.append((pane_id, command, tuple(aliases)))
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
