"""`quorum vote ID approve|reject [--comment TEXT] [--json]`.

A second vote by the same person replaces the first. When the vote completes the
quorum, the change executes in this same command and its outcome is printed.
"""

from __future__ import annotations

import argparse

from console.cli.runner import emit, run_mutating
from console.store.proposals import parse_id


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("vote", parents=[common], help="approve or reject a proposal")
    parser.add_argument("id", metavar="ID")
    parser.add_argument("choice", choices=("approve", "reject"))
    parser.add_argument("--comment", default="", metavar="TEXT")
    parser.add_argument("--json", action="store_true", help="print the proposal as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    pid = parse_id(args.id)
    approve = args.choice == "approve"
    result = run_mutating(
        args, "vote", lambda actions: actions.vote(pid, approve, args.comment), json_out=args.json
    )
    return emit(args, result.proposal, result.outcome)
