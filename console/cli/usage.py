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


def parse_command_line(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> argparse.Namespace:
    """`parser.parse_args(argv)`, but unknown arguments are the chosen command's error,
    and a misspelt command is answered with the near one."""
    parser.exit_on_error = False  # an unknown command comes back here, to be suggested
    try:
        args, extras = parser.parse_known_args(argv)
    except argparse.ArgumentError as exc:
        parser.error(_misspelt_command(parser, exc) or str(exc))
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


def _misspelt_command(parser: argparse.ArgumentParser, exc: argparse.ArgumentError) -> str:
    """`unknown command 'stauts'; did you mean 'status'? ...` when a command name is near
    the word given, else "" (argparse's own message, with every choice, stands)."""
    from console.domain.suggest import nearest

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and exc.argument_name in (
            action.metavar,
            action.dest,
        ):
            word = str(exc).partition("invalid choice: ")[2].partition(" (")[0].strip("'")
            near = nearest(word, action.choices) if word else None
            if near:
                return (
                    f"unknown command {word!r}; did you mean {near!r}? (`quorum --help` lists them)"
                )
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
