"""`quorum vote ID approve|reject [--revision REV] [--comment TEXT] [--json]`.

A second vote by the same person replaces the first. When the vote completes the
quorum, the change executes in this same command and its outcome is printed.
The vote is signed over what the proposal asks for at this moment; `--revision`
names the revision the voter read, and the vote is refused if it changed since.
"""

from __future__ import annotations

import argparse

from console.cli.runner import emit, run_mutating
from console.domain.errors import PolicyRefused
from console.engine.actions import Actions, Result
from console.store.proposals import parse_id


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("vote", parents=[common], help="approve or reject a proposal")
    parser.add_argument("id", metavar="ID")
    parser.add_argument("choice", choices=("approve", "reject"))
    parser.add_argument(
        "--revision",
        metavar="REV",
        help="the revision you read and approve or reject: refused if the proposal changed",
    )
    parser.add_argument("--comment", default="", metavar="TEXT")
    parser.add_argument("--json", action="store_true", help="print the proposal as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    pid = parse_id(args.id)
    approve = args.choice == "approve"

    async def cast(actions: Actions) -> Result:
        seen = None
        if args.revision is not None:
            current = (await actions.fetch_proposal(pid)).proposal
            if current.revision != args.revision:
                raise PolicyRefused(
                    f"proposal {pid} now asks for {current.describe()}, not revision "
                    f"{args.revision}: read it again (`quorum approvals`) before you vote"
                )
            seen = current.version
        return await actions.vote(pid, approve, args.comment, seen_version=seen)

    result = run_mutating(args, "vote", cast, json_out=args.json)
    return emit(args, result.proposal, result.outcome)
