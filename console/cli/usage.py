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
    """`parser.parse_args(argv)`, but unknown arguments are the chosen command's error."""
    args, extras = parser.parse_known_args(argv)
    if extras:
        chosen = chosen_parser(parser, args)
        chosen.error(f"unrecognized arguments: {' '.join(extras)}{_hint(chosen, extras)}")
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
