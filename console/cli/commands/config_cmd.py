"""`quorum config check`: validates the config before the console or a script relies on it.

It reports what starting the console would: every problem of the file (file, line,
key) and every provider that cannot be built (a kind whose module fails to
import, a provider that refuses its settings), one per line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from console.config.load import ConfigProblem, config_problems, load_config, problem_at
from console.config.paths import check_choice, config_path, data_dir
from console.domain import exitcodes
from console.domain.identity import current_identity
from console.domain.inert import neutralise
from console.domain.settings import Config
from console.domain.wording import count
from console.engine.deploy_command import command_problem
from console.engine.session import Session, open_session
from console.engine.signing_state import signing_status
from console.store.files import sharing_problems


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("config", parents=[common], help="inspect the configuration")
    parser.set_defaults(func=lambda _args: _usage(parser))
    actions = parser.add_subparsers(dest="config_command", metavar="ACTION")
    check = actions.add_parser(
        "check",
        parents=[common],
        help="validate the config; problems name file, line and key (exit 2)",
    )
    check.set_defaults(func=run_check)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    print("quorum config: name an action, e.g. `quorum config check`", file=sys.stderr)
    return exitcodes.USAGE


def run_check(args: argparse.Namespace) -> int:
    check_choice(args.config, args.sandbox)
    if args.sandbox:
        print("ok: --sandbox uses the built-in sandbox team; no config file is read")
        return exitcodes.OK
    path = config_path(args.config)
    explicit = args.config is not None or "QUORUM_CONFIG" in os.environ
    if not path.exists() and not explicit:
        print(f"ok: no config at {neutralise(str(path))}; quorum would open the built-in sandbox")
        return exitcodes.OK
    problems = config_problems(path)
    if problems:
        return _fail(problems)
    config = load_config(path)
    broken = _broken_providers(args, path, config) + _missing_commands(path, config)
    if broken:
        return _fail(broken)
    for warning in [*_not_a_member(config), *_sharing(config)]:
        print(f"warning: {neutralise(warning)}", file=sys.stderr)
    print(f"ok: {neutralise(str(path))} ({summary(config)})")
    print(neutralise(signing_status(config)))
    if config.ledger is not None:
        print(
            neutralise(
                f"ledger: PostgreSQL at {config.ledger.where}; the team is the members of "
                f"role {config.ledger.member_role} (`quorum ledger init` prepares it)"
            )
        )
    return exitcodes.OK


def _missing_commands(path: Path, config: Config) -> list[ConfigProblem]:
    """Deploy commands that could not start from here (the command runs in the current
    directory, as it would by hand), found before anyone votes on a deploy."""
    problems = []
    for environment, policy in config.policies.items():
        found = command_problem(policy.deploy_command) if policy.deploy_command else None
        if found:
            key = ("policy", environment, "deploy_command")
            problems.append(problem_at(path, key, found))
    return problems


def _not_a_member(config: Config) -> list[str]:
    """The person checking, when the team would refuse them every change: found here,
    not at the first rollback they need. (No members at all is a personal config, where
    anyone running it may change things.) On a PostgreSQL ledger the server names who
    acts, by the role libpq logs in as, not this machine's account: `quorum whoami`
    asks it."""
    if config.ledger is not None:
        return []
    me = current_identity().name
    if not config.members or me in config.members:
        return []
    return [
        f"[team] members does not list {me}: you ({me}) can read, but not vote, override, "
        "review or make changes with this config"
    ]


def _sharing(config: Config) -> list[str]:
    """Members of the team who could not write the audit log (README: a shared path);
    none to check on a PostgreSQL ledger, where the server grants access."""
    if config.ledger is not None:
        return []
    session = Session(config=config, data_dir=data_dir(), readonly=True)
    return sharing_problems(session.audit_path, config.members)


def _broken_providers(args: argparse.Namespace, path: Path, config: Config) -> list[ConfigProblem]:
    """Providers the file describes correctly but that fail when the session builds them."""
    session = open_session(args, postgres_ready=True)
    asyncio.run(session.close())
    index = {pc.name: i for i, pc in enumerate(config.providers)}
    return [problem_at(path, ("providers", index[b.name]), b.reason) for b in session.broken]


def summary(config: Config) -> str:
    """`2 providers, 1 rotation, ...`: what the config defines, counted."""
    counts = (
        (len(config.providers), "provider"),
        (len(config.services), "service"),
        (len(config.policies), "policy"),
        (len(config.rotations), "rotation"),
        (len(config.notify), "notify sink"),
        (len(config.members), "member"),
    )
    return ", ".join(count(n, word) for n, word in counts)


def _fail(problems: list[ConfigProblem]) -> int:
    for problem in problems:
        print(neutralise(str(problem)), file=sys.stderr)
    return exitcodes.USAGE
