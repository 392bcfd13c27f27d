"""`quorum audit tail [-n N] [--json]`, `quorum audit verify`, `quorum audit export`.

Reads the shared audit log at the session's `audit_path`. `verify` exits 1 on any
break in the chain, so a cron job or a CI step can watch the file.
"""

from __future__ import annotations

import argparse
import sys

from console.cli.output import print_json, print_table
from console.domain import exitcodes
from console.domain.bounds import MAX_LINES, count_type
from console.engine.session import open_session
from console.store.audit import AuditLog, AuditRecord

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
    verify.add_argument("--json", action="store_true", help="print a JSON object")
    verify.set_defaults(func=run_verify)

    export = actions.add_parser("export", parents=[common], help="every record, to stdout")
    export.add_argument("--format", choices=["jsonl"], default="jsonl", help="jsonl (default)")
    export.set_defaults(func=run_export)


def _open(args: argparse.Namespace) -> AuditLog:
    return AuditLog(open_session(args).audit_path)


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
    with _open(args) as log:
        result = log.verify()
    if args.json:
        print_json(
            {
                "ok": result.ok,
                "checked": result.checked,
                "bad_seq": result.bad_seq,
                "reason": result.reason,
            }
        )
    elif result.ok:
        print(f"ok: {result.checked} records, chain intact")
    else:
        print(f"failed: {result.reason} ({result.checked} records intact before it)")
    return exitcodes.OK if result.ok else exitcodes.FAILURE


def run_export(args: argparse.Namespace) -> int:
    with _open(args) as log:
        log.export_jsonl(sys.stdout)
    return exitcodes.OK
