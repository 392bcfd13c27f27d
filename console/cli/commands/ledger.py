"""`quorum ledger init` prepares the team's PostgreSQL ledger and says who to grant;
`quorum ledger import PATH` copies a SQLite ledger into it.

Run by the administrator as the ledger's owner role (libpq's own sources say who:
PGUSER, ~/.pgpass, a service file). It creates or upgrades the schema, writes the
config's policies and the server-side rules, and prints the one statement an
administrator runs per member, since granting roles is theirs to do, not Quorum's.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from console.config.load import load_config
from console.config.paths import check_choice, config_path
from console.domain import exitcodes
from console.domain.errors import UsageError
from console.domain.inert import neutralise
from console.domain.settings import Config

if TYPE_CHECKING:
    import psycopg

T = TypeVar("T")


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
    imports = actions.add_parser(
        "import",
        parents=[common],
        help="copy a SQLite ledger (verified first) into the new PostgreSQL ledger",
    )
    imports.add_argument("path", metavar="PATH", help="the SQLite ledger (audit.db)")
    imports.set_defaults(func=run_import)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    print("quorum ledger: name an action, e.g. `quorum ledger init`", file=sys.stderr)
    return exitcodes.USAGE


def _ledger_config(args: argparse.Namespace) -> Config:
    check_choice(args.config, args.sandbox)
    if args.sandbox:
        raise UsageError("the sandbox keeps its ledger in its data directory; nothing to set up")
    path = config_path(args.config)
    config = load_config(path)
    if config.ledger is None:
        raise UsageError(
            f'{path}: no [ledger] section; add one (url = "postgresql://host/db") first'
        )
    return config


def _as_owner(config: Config, work: Callable[[psycopg.Connection], T]) -> T:
    """`work` on a connection as whoever libpq says (the owner), its errors as Quorum's."""
    import psycopg

    from console.store.postgres.connect import connect, refusal

    assert config.ledger is not None
    conn = connect(config.ledger)
    try:
        return work(conn)
    except psycopg.Error as exc:
        raise refusal(exc, config.ledger.where) from None
    finally:
        conn.close()


def run_import(args: argparse.Namespace) -> int:
    config = _ledger_config(args)
    from console.store.postgres.importer import acts_by_author, import_sqlite

    path = Path(args.path).expanduser()
    done = _as_owner(config, lambda conn: import_sqlite(conn, path))
    for who, n in _outside_the_team(config, _as_owner(config, acts_by_author)):
        print(
            neutralise(
                f"warning: [team] members does not list {who}: their {n} "
                f"act{'s were' if n != 1 else ' was'} imported but "
                f"{'do' if n != 1 else 'does'} not count (a proposal of theirs reads as invalid)"
            ),
            file=sys.stderr,
        )
    seq, digest = done.head
    print(
        neutralise(
            f"imported {path}: {done.proposals} proposals, {done.acts} signed acts, "
            f"{done.claims} action claims, {done.schedule} rotation changes and notices, "
            f"{done.gate_votes} provider-approval votes, {done.records} audit records; the "
            f"chain continues from record {seq} ({digest})"
        )
    )
    return exitcodes.OK


def _outside_the_team(config: Config, authors: dict[str, int]) -> list[tuple[str, int]]:
    """Authors of imported acts the team does not list (a file made under the sandbox's
    or an old account's name): their acts arrive, as the chain needs, but never count."""
    if not config.members:
        return []
    return [(who, n) for who, n in authors.items() if who not in config.members]


def run_init(args: argparse.Namespace) -> int:
    config = _ledger_config(args)
    assert config.ledger is not None
    from console.store.postgres.setup import init

    ledger = config.ledger
    result = _as_owner(config, lambda conn: init(conn, config, ledger))
    print(neutralise(f"ledger {config.ledger.where}: {result.done}; owned by {result.owner}"))
    if not result.grants:
        print(f"no [team] members in the config: grant {result.member_role} to each member")
        return exitcodes.OK
    print("An administrator runs, for each member (each logs in as a role of their name):")
    for line in result.grants:
        print(f"  {neutralise(line)}")
    return exitcodes.OK
