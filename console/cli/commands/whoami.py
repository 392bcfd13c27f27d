"""`quorum whoami`: who Quorum thinks you are, and what vouches for it.

On the SQLite ledger the OS account running the process is the actor; on a
PostgreSQL ledger the database's session user is, as the server authenticated it,
and membership is the server's group role. Both are worth a look before a vote: a
wrong `PGUSER` or service file acts as someone else, or as no member at all.
"""

from __future__ import annotations

import argparse

from console.cli.output import print_json
from console.domain import exitcodes
from console.domain.identity import current_identity
from console.domain.inert import neutralise
from console.domain.settings import LedgerConfig
from console.engine.session import open_session


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "whoami", parents=[common], help="who Quorum says you are, and from where"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    session = open_session(args, postgres_ready=True)
    ledger = session.config.ledger
    found = _database_role(ledger) if ledger is not None else _os_account(session.audit_path)
    if args.json:
        print_json(found)
    else:
        print(neutralise(str(found["line"])))
    return exitcodes.OK


def _os_account(path: object) -> dict[str, object]:
    me = current_identity()
    source = f"OS account {me.os_account}" + (f" ({me.note})" if me.via_seam else "")
    return {
        "name": me.name,
        "source": "os-account",
        "ledger": str(path),
        "member": None,
        "line": f"{me.name}: from the {source}; ledger: SQLite file {path}",
    }


def _database_role(ledger: LedgerConfig) -> dict[str, object]:
    from console.store.postgres.connect import connect

    with connect(ledger, autocommit=True) as conn:
        row = conn.execute(
            "SELECT session_user, pg_has_role(session_user, %s, 'MEMBER') "
            "FROM pg_roles WHERE rolname = %s UNION ALL SELECT session_user, false LIMIT 1",
            (ledger.member_role, ledger.member_role),
        ).fetchone()
    assert row is not None
    name, member = str(row[0]), bool(row[1])
    membership = (
        f"a member of {ledger.member_role}"
        if member
        else f"NOT a member of {ledger.member_role}: the server refuses your acts"
    )
    return {
        "name": name,
        "source": "database-role",
        "ledger": ledger.where,
        "member": member,
        "line": f"{name}: from the database role the server authenticated on "
        f"{ledger.where}; {membership}",
    }
