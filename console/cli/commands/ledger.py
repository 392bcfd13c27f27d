"""`quorum ledger init`: prepares the team's PostgreSQL ledger and says who to grant.

Run by the administrator as the ledger's owner role (libpq's own sources say who:
PGUSER, ~/.pgpass, a service file). It creates or upgrades the schema, writes the
config's policies and the server-side rules, and prints the one statement an
administrator runs per member, since granting roles is theirs to do, not Quorum's.
"""

from __future__ import annotations

import argparse
import sys

from console.config.load import load_config
from console.config.paths import check_choice, config_path
from console.domain import exitcodes
from console.domain.errors import UsageError
from console.domain.inert import neutralise


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("ledger", parents=[common], help="set up the team ledger on PostgreSQL")
    parser.set_defaults(func=lambda _args: _usage(parser))
    actions = parser.add_subparsers(dest="ledger_command", metavar="ACTION")
    init = actions.add_parser(
        "init",
        parents=[common],
        help="create or upgrade the ledger's schema (as its owner role); print the GRANTs",
    )
    init.set_defaults(func=run_init)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    print("quorum ledger: name an action, e.g. `quorum ledger init`", file=sys.stderr)
    return exitcodes.USAGE


def run_init(args: argparse.Namespace) -> int:
    check_choice(args.config, args.sandbox)
    if args.sandbox:
        raise UsageError("the sandbox keeps its ledger in its data directory; nothing to set up")
    path = config_path(args.config)
    config = load_config(path)
    if config.ledger is None:
        raise UsageError(
            f'{path}: no [ledger] section; add one (url = "postgresql://host/db") first'
        )
    from console.store.postgres.connect import connect, refusal
    from console.store.postgres.setup import init

    conn = connect(config.ledger)
    try:
        result = init(conn, config, config.ledger)
    except UsageError:
        raise
    except Exception as exc:  # psycopg's errors, imported only with the driver
        import psycopg

        if not isinstance(exc, psycopg.Error):
            raise
        raise refusal(exc) from None
    finally:
        conn.close()
    print(neutralise(f"ledger {config.ledger.where}: {result.done}; owned by {result.owner}"))
    if not result.grants:
        print(f"no [team] members in the config: grant {result.member_role} to each member")
        return exitcodes.OK
    print("An administrator runs, for each member (each logs in as a role of their name):")
    for line in result.grants:
        print(f"  {neutralise(line)}")
    return exitcodes.OK
