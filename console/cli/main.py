"""The `quorum` command: the TUI with no subcommand, headless subcommands otherwise.

Each command group lives in its own module under `console/cli/commands/` and registers
its options through `register(subparsers, common)`. `COMMANDS` names them, with the
one line `quorum --help` shows, so the parser is built without importing them: only
the module of the command being run is imported (with what it uses), and a script
that runs `quorum status` pays nothing for the notifier, the rotation store or the
other commands. This module only builds the parser, dispatches, and turns expected
errors into one-line messages and exit codes.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sqlite3
import sys
from collections.abc import Sequence

from console.cli.usage import CommandParser, parse_command_line
from console.domain import exitcodes
from console.domain.errors import QuorumError, UsageError
from console.domain.inert import neutralise
from providers.base import ProviderError


def common_options() -> argparse.ArgumentParser:
    """Options every command accepts, before or after the command name."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="config file (default: $QUORUM_CONFIG, then the XDG path)",
    )
    common.add_argument(
        "--sandbox",
        action="store_true",
        default=argparse.SUPPRESS,
        help="use the built-in simulated team",
    )
    common.add_argument(
        "--slow-link",
        action="store_true",
        default=argparse.SUPPRESS,
        help="redraw less often, for a slow or metered link (also QUORUM_SLOW_LINK=1)",
    )
    common.add_argument(
        "--readonly",
        action="store_true",
        default=argparse.SUPPRESS,
        help="offer no mutating action",
    )
    return common


# Every command: its module under console/cli/commands/ and its line in `quorum --help`,
# in the order the help lists them (a test keeps this equal to what the modules register).
COMMANDS: dict[str, tuple[str, str]] = {
    "actions": ("actions", "actions that never finished"),
    "alerts": ("alerts", "active alerts and the services they name; silence one, expire a silence"),
    "approvals": ("approvals", "open proposals and provider approvals, with votes"),
    "audit": ("audit", "read and verify the audit log"),
    "certificate": ("certificate", "print a proposal's consensus certificate, or verify one"),
    "config": ("config_cmd", "inspect the configuration"),
    "deploy": ("deploy", "deploy a revision (opens a proposal where the policy needs votes)"),
    "rollback": ("deploy", "roll back now: anyone, no vote, team notified"),
    "restart": ("deploy", "restart a target (opens a proposal where the policy needs votes)"),
    "scale": ("deploy", "scale a target (opens a proposal where the policy needs votes)"),
    "pause": ("deploy", "pause a rollout now: anyone, no vote, team notified"),
    "resume": ("deploy", "resume a paused rollout (opens a proposal where the policy needs votes)"),
    "describe": ("describe", "a target's pods and recent events, then exit"),
    "ledger": ("ledger", "set up the team ledger on PostgreSQL"),
    "logs": ("logs", "print or follow a target's logs"),
    "override": ("override", "emergency bypass of a proposal (reason required)"),
    "review": ("override", "mark an override reviewed (not by its author)"),
    "propose": ("propose", "open a proposal for a change"),
    "rotation": (
        "rotation",
        "who holds each rotation; schedule, calendar feed, overrides, swaps",
    ),
    "status": ("status", "one snapshot of every target, then exit"),
    "vote": ("vote", "approve or reject a proposal or a provider approval"),
    "whoami": ("whoami", "who Quorum says you are, and from where"),
}


def command_module(name: str) -> str:
    """The dotted name of the module that registers and runs command `name`."""
    return f"console.cli.commands.{COMMANDS[name][0]}"


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The full parser for `argv`: the named command's module registers its real options;
    every other command is a name and a help line, so none of them is imported."""
    common = common_options()
    parser = CommandParser(
        prog="quorum",
        description="A terminal ops console for teams that ship by consensus.",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = _named_command(common, argv)
    module = COMMANDS[chosen][0] if chosen else None
    registered: set[str] = set()
    for name, (owner, help_text) in COMMANDS.items():
        if name in registered:
            continue
        if owner == module:
            before = set(sub.choices)
            importlib.import_module(command_module(name)).register(sub, common)
            registered |= set(sub.choices) - before
        else:
            # Never parsed: a command named in argv is always registered for real above.
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _named_command(common: argparse.ArgumentParser, argv: Sequence[str] | None) -> str | None:
    """The command `argv` names (its first word after the common options), if any."""
    probe = argparse.ArgumentParser(add_help=False, parents=[common])
    probe.exit_on_error = False
    try:
        _, rest = probe.parse_known_args(argv)
    except argparse.ArgumentError:
        return None
    words = [w for w in rest if not w.startswith("-")]
    return words[0] if words and words[0] in COMMANDS else None


def _normalise(args: argparse.Namespace) -> argparse.Namespace:
    for key, default in (
        ("config", None),
        ("sandbox", False),
        ("readonly", False),
        ("slow_link", False),
    ):
        if not hasattr(args, key):
            setattr(args, key, default)
    return args


def _console_args(argv: Sequence[str] | None) -> argparse.Namespace | None:
    """The options when `argv` names no command (the console), else None.

    The console is the common case and the one a person waits for, so it starts
    without importing every command module; anything else (a command, `--help`,
    a mistake) goes to the full parser and its messages.
    """
    parser = common_options()
    parser.exit_on_error = False
    try:
        args, rest = parser.parse_known_args(argv)
    except argparse.ArgumentError:
        return None
    if rest:
        return None
    args.command = None
    return _normalise(args)


# What a command that lost its reader returns, as a shell reports a process ended by
# SIGPIPE (128 + 13); documented in the README.
CLOSED_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _run(argv)
        sys.stdout.flush()  # a closed pipe shows here for short outputs
    except BrokenPipeError:
        # `quorum status | head -1`: the reader left. Stop quietly, as Unix tools do;
        # stdout now points at /dev/null so the interpreter's last flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return CLOSED_PIPE
    return code


def _run(argv: Sequence[str] | None) -> int:
    try:
        _check_encoding(sys.argv[1:] if argv is None else argv)
        args = _console_args(argv) or _normalise(parse_command_line(build_parser(argv), argv))
        if args.command is None:
            # Start-up allocates some hundred thousand objects and leaves almost no
            # cycles behind (a few hundred): the cyclic collector's passes over them
            # cost ~15 ms before the first frame, after which the app turns it back on.
            gc.disable()
            from console.app import run_tui

            return run_tui(args)
        return int(args.func(args))
    except QuorumError as exc:
        problems = getattr(exc, "problems", None)  # a config's: one line each
        _say([str(p) for p in problems] if problems else str(exc))
        return exc.exit_code
    except ProviderError as exc:  # a backend's failure, already one line
        _say(str(exc))
        return exitcodes.FAILURE
    except sqlite3.Error as exc:  # a ledger file that cannot be read or written
        from console.store.files import explain

        _say(explain(exc))
        return exitcodes.FAILURE
    except KeyboardInterrupt:
        return 130


def _say(message: str | list[str]) -> None:
    """One line for a message, or one per line of a list (a config's problems), made
    inert: a line break inside a value (a name given on the command line) is shown as
    `␊`, so it cannot start a second, forged `quorum:` line."""
    for line in [message] if isinstance(message, str) else message:
        print(f"quorum: {neutralise(line)}", file=sys.stderr)


def _check_encoding(argv: Sequence[str]) -> None:
    """Bytes that are not UTF-8 reach Python as lone surrogates, which no file, terminal
    or database can take: refused here, naming the option they were given to."""
    for i, arg in enumerate(argv):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            flag = arg.partition("=")[0] if arg.startswith("--") and "=" in arg else ""
            if not flag and i and argv[i - 1].startswith("-"):
                flag = argv[i - 1]
            flag = flag.encode("utf-8", "replace").decode("utf-8")
            where = f"the value of {flag}" if flag else f"argument {i + 1}"
            raise UsageError(f"{where} is not valid UTF-8 text") from None


def entry() -> None:
    sys.exit(main())
