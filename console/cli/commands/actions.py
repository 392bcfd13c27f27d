"""`quorum actions incomplete [--json]` and `quorum actions resolve KEY --outcome ...`.

An action whose process died between "started" and "finished" is listed until an
operator looks at the target and records what really happened; the record is
audited, and a retry with the same key then replays that outcome instead of running.
"""

from __future__ import annotations

import argparse

from console.cli.output import print_json, print_table
from console.cli.runner import run_mutating, run_reading
from console.domain.inert import neutralise
from console.domain.instants import iso_utc
from console.engine.owner import Owner, alive
from console.store.claims import OUTCOMES, Claim


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("actions", parents=[common], help="actions that never finished")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    incomplete = verbs.add_parser(
        "incomplete", parents=[common], help="list actions that started and never finished"
    )
    incomplete.add_argument("--json", action="store_true", help="print a JSON array")
    incomplete.set_defaults(func=run_incomplete)
    resolve = verbs.add_parser(
        "resolve", parents=[common], help="record the real outcome of an incomplete action"
    )
    resolve.add_argument("key", metavar="KEY")
    resolve.add_argument("--outcome", required=True, choices=OUTCOMES)
    resolve.add_argument("--comment", default="", metavar="TEXT")
    resolve.add_argument(
        "--force",
        action="store_true",
        help="resolve although its process may still run (checked by hand)",
    )
    resolve.set_defaults(func=run_resolve)


def run_incomplete(args: argparse.Namespace) -> int:
    records = run_reading(args, lambda a: a.fetch_incomplete())
    if args.json:
        print_json([{**r.to_json(), "running": _running(r)} for r in records])
    elif not records:
        print("no incomplete actions")
    else:
        print_table(
            ["key", "action", "service", "env", "revision", "who", "started", "process"],
            [
                [r.key, r.action, r.ref.service, r.ref.environment, r.revision, r.who]
                + [iso_utc(r.started_at), _process(r)]
                for r in records
            ],
        )
    return 0


def _running(record: Claim) -> bool | None:
    """Whether the action's process still runs; None when unknown (another host, or
    recorded before owners were)."""
    if record.owner_pid is None:
        return None
    return alive(Owner(record.owner_host, record.owner_pid, record.owner_start))


def _process(record: Claim) -> str:
    if record.owner_pid is None:
        return "unknown"
    state = {True: "running", False: "gone", None: "other host"}[_running(record)]
    return f"pid {record.owner_pid} on {record.owner_host} ({state})"


def run_resolve(args: argparse.Namespace) -> int:
    record = run_mutating(
        args,
        "resolve an action",
        lambda a: a.resolve(args.key, args.outcome, args.comment, force=args.force),
    )
    print(neutralise(f"{record.key}: {record.action} recorded as {args.outcome}"))
    return 0
