"""Parsing the command line so a mistake is answered by the command it was made in.

argparse hands arguments a subcommand does not know up to the top-level parser, which
then prints `quorum`'s usage: `quorum status --jsno` would show the list of commands,
not the options of `status`. Here the command that was chosen (however deeply
nested, `quorum rotation swap request`) reports them with its own usage, and
suggests the option that was probably meant.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn


class CommandParser(argparse.ArgumentParser):
    """The parser of `quorum` and, through `add_parser` (which makes its parent's
    class), of every command under it at any depth: a misspelt command name, `quorum
    stauts` as much as `quorum audit tial`, is answered by the command it was given
    to with the near one."""

    def error(self, message: str) -> NoReturn:
        super().error(_misspelt_command(self, message) or message + _misspelt_choice(self, message))


def parse_command_line(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> argparse.Namespace:
    """`parser.parse_args(argv)`, but unknown arguments are the chosen command's error,
    and a misspelt command is answered with the near one (CommandParser)."""
    args, extras = parser.parse_known_args(argv)
    if extras:
        chosen = chosen_parser(parser, args)
        from console.domain.inert import neutralise

        words = " ".join(neutralise(word) for word in extras)  # shown, never obeyed
        chosen.error(f"unrecognized arguments: {words}{_hint(chosen, extras)}")
    return args


def chosen_parser(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> argparse.ArgumentParser:
    """The innermost subcommand's parser that `args` went through (else `parser`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            name = getattr(args, action.dest, None) if action.dest != argparse.SUPPRESS else None
            sub = action.choices.get(name) if isinstance(name, str) else None
            if sub is not None:
                return chosen_parser(sub, args)
    return parser


def _misspelt_command(parser: argparse.ArgumentParser, message: str) -> str:
    """`unknown command 'stauts'; did you mean 'status'? ...` when argparse's `message`
    refuses a command name of `parser` near one it knows, else "" (argparse's own
    message, with every choice, stands)."""
    from console.domain.suggest import nearest

    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for name in {action.metavar, action.dest} - {None, argparse.SUPPRESS}:
            refused = message.partition(f"argument {name}: invalid choice: ")[2]
            word = refused.partition(" (")[0].strip("'")
            near = nearest(word, action.choices) if word else None
            if near:
                return (
                    f"unknown command {word!r}; did you mean {near!r}? "
                    f"(`{parser.prog} --help` lists them)"
                )
    return ""


def _misspelt_choice(parser: argparse.ArgumentParser, message: str) -> str:
    """`; did you mean 'approve'?` when `message` refuses a word near one of an
    argument's choices (`quorum vote 1 aprove`), else ""."""
    from console.domain.suggest import did_you_mean

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or not action.choices:
            continue
        if not all(isinstance(choice, str) for choice in action.choices):
            continue
        names = ["/".join(action.option_strings), action.metavar, action.dest]
        for name in {n for n in names if isinstance(n, str)} - {argparse.SUPPRESS}:
            refused = message.partition(f"argument {name}: invalid choice: ")[2]
            word = refused.partition(" (")[0].strip("'")
            if word:
                return did_you_mean(word, action.choices)
    return ""


def _hint(parser: argparse.ArgumentParser, extras: list[str]) -> str:
    """` (did you mean --json?)` for the first unknown option near a known one."""
    from console.domain.suggest import nearest

    names = [o[2:] for action in parser._actions for o in action.option_strings if o[:2] == "--"]
    for extra in extras:
        flag = extra.partition("=")[0]
        if flag.startswith("--"):
            near = nearest(flag[2:], names)  # compared without the dashes every option shares
            if near is not None:
                return f" (did you mean --{near}?)"
    return ""
