"""`quorum override ID --reason TEXT` and `quorum review ID [--comment TEXT]`.

An override is the emergency bypass of an open (or blocked) proposal: it executes
at once, is flagged in the audit log, notifies the team, and sits in the review
queue (`quorum approvals`) until someone other than its author reviews it.
"""

from __future__ import annotations

import argparse

from console.cli.runner import emit, run_mutating
from console.domain.errors import UsageError
from console.store.proposals import parse_id


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    override = sub.add_parser(
        "override", parents=[common], help="emergency bypass of a proposal (reason required)"
    )
    override.add_argument("id", metavar="ID")
    override.add_argument("--reason", required=True, metavar="TEXT")
    override.add_argument("--json", action="store_true", help="print the proposal as JSON")
    override.set_defaults(func=run_override)

    review = sub.add_parser(
        "review", parents=[common], help="mark an override reviewed (not by its author)"
    )
    review.add_argument("id", metavar="ID")
    review.add_argument("--comment", default="", metavar="TEXT")
    review.add_argument("--json", action="store_true", help="print the proposal as JSON")
    review.set_defaults(func=run_review)


def run_override(args: argparse.Namespace) -> int:
    if not args.reason.strip():
        raise UsageError("an override needs a reason (--reason TEXT)")
    pid = parse_id(args.id)
    result = run_mutating(
        args, "override", lambda a: a.override(pid, args.reason), json_out=args.json
    )
    return emit(args, result.proposal, result.outcome)


def run_review(args: argparse.Namespace) -> int:
    pid = parse_id(args.id)
    view = run_mutating(
        args, "review an override", lambda a: a.review(pid, args.comment), json_out=args.json
    )
    return emit(args, view, None)
