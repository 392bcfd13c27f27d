"""`quorum audit tail [-n N] [--json]`, `quorum audit verify`, `quorum audit export`.

Reads the shared audit log at the session's `audit_path`, or the team's PostgreSQL
ledger when the config names one (`[ledger]`). `verify` exits 1 on any
break in the chain, so a cron job or a CI step can watch the file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from console.cli.output import print_json, print_table
from console.domain import exitcodes
from console.domain.bounds import MAX_LINES, count_type
from console.domain.inert import neutralise
from console.engine.audit_watch import head_gone, seen_heads
from console.engine.session import Session, open_session
from console.store.audit import AuditLog, AuditRecord, VerifyResult
from console.store.seen_heads import SeenHead

if TYPE_CHECKING:
    from console.store.postgres.audit import PgAuditLog

TAIL_HEADERS = (
    "seq",
    "ts",
    "who",
    "action",
    "target",
    "env",
    "revision",
    "outcome",
    "comment",
)


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("audit", parents=[common], help="read and verify the audit log")
    actions = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    tail = actions.add_parser("tail", parents=[common], help="the newest records")
    tail.add_argument(
        "-n", type=count_type(1, MAX_LINES), default=50, metavar="N", help="how many (50)"
    )
    tail.add_argument("--json", action="store_true", help="print a JSON array")
    tail.set_defaults(func=run_tail)

    verify = actions.add_parser(
        "verify", parents=[common], help="check the hash chain; exit 1 naming the first bad record"
    )
    verify.add_argument(
        "--head",
        metavar="HASH",
        help="a head kept elsewhere (an export, a ticket): fail unless it is still in the log",
    )
    verify.add_argument("--json", action="store_true", help="print a JSON object")
    verify.set_defaults(func=run_verify)

    export = actions.add_parser("export", parents=[common], help="every record, to stdout")
    export.add_argument("--format", choices=["jsonl"], default="jsonl", help="jsonl (default)")
    export.set_defaults(func=run_export)


def _open(args: argparse.Namespace) -> AuditLog | PgAuditLog:
    return open_log(open_session(args, postgres_ready=True))


def open_log(session: Session) -> AuditLog | PgAuditLog:
    """The team's log: the PostgreSQL ledger's when the config names one, else the file."""
    if session.config.ledger is not None:
        from console.store.postgres.audit import PgAuditLog

        return PgAuditLog(session.config.ledger)
    return AuditLog(session.audit_path)


def _seen_key(session: Session) -> Path | str:
    """Where the remembered head is filed: the ledger as the config names it, or the file."""
    ledger = session.config.ledger
    return ledger.where if ledger is not None else session.audit_path


def _row(record: AuditRecord) -> list[object]:
    return [
        record.seq,
        record.to_json()["ts"],
        record.who,
        record.action,
        record.target,
        record.environment,
        record.revision,
        record.outcome,
        record.comment,
    ]


def run_tail(args: argparse.Namespace) -> int:
    with _open(args) as log:
        records = log.tail(args.n)
    if args.json:
        print_json([record.to_json() for record in records])
    else:
        print_table(TAIL_HEADERS, [_row(record) for record in records])
    return exitcodes.OK


def run_verify(args: argparse.Namespace) -> int:
    """The chain, the head this account saw last, a head given with --head, and, where
    the team has keys, every record's signature (from where this account last checked)."""
    session = open_session(args, postgres_ready=True)
    config = session.config
    members = frozenset(config.members) if config.members else None
    heads = seen_heads()
    seen = heads.get(_seen_key(session))
    with open_log(session) as log:
        gone = head_gone(log, seen)
        pinned = None if seen is None or gone else (seen.seq, seen.hash)
        if gone is None and args.head:
            seq = log.seq_of(args.head.strip())
            if seq is None:
                gone = f"the head {args.head.strip()} is not in the log (truncated or rewritten)"
            pinned = (seq, args.head.strip()) if seq else None
        if gone is not None:
            result = VerifyResult(ok=False, checked=0, reason=gone)
        else:
            result = log.verify(
                signers=config.signers,
                members=members if config.signers else None,
                pinned=pinned,
                signed_through=seen.signed_through if seen and config.signers else 0,
            )
            if result.ok:
                seq, digest = log.head()
                signed = seq if config.signers else 0
                heads.remember(_seen_key(session), SeenHead(seq, digest, signed))
    if args.json:
        print_json(
            {
                "ok": result.ok,
                "checked": result.checked,
                "bad_seq": result.bad_seq,
                "reason": result.reason,
                "signed": config.signers is not None,
            }
        )
    elif result.ok:
        signed = "; every record signed by its author" if config.signers else ""
        print(f"ok: {result.checked} records, chain intact{signed}")
    else:
        print(neutralise(f"failed: {result.reason} ({result.checked} records intact before it)"))
    return exitcodes.OK if result.ok else exitcodes.FAILURE


def run_export(args: argparse.Namespace) -> int:
    with _open(args) as log:
        log.export_jsonl(sys.stdout)
    return exitcodes.OK
