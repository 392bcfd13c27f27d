"""`quorum vote ID approve|reject [--comment TEXT] [--json]`.

A second vote by the same person replaces the first. When the vote completes the
quorum, the change executes in this same command and its outcome is printed.

An id of the form `PROVIDER:REFERENCE` (`ci:4242/production`, as `quorum
approvals` lists it) is a provider's own approval: the vote is sent to it as the
voter's review, or held until Quorum's quorum where the policy says
`forward_after_quorum`.
"""

from __future__ import annotations

import argparse

from console.cli.output import print_json
from console.cli.runner import emit, run_mutating
from console.domain.inert import neutralise
from console.engine.provider_votes import is_provider_approval, vote_on_provider_approval
from console.store.proposals import parse_id


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "vote", parents=[common], help="approve or reject a proposal or a provider approval"
    )
    parser.add_argument("id", metavar="ID", help="a proposal id, or PROVIDER:REFERENCE")
    parser.add_argument("choice", choices=("approve", "reject"))
    parser.add_argument("--comment", default="", metavar="TEXT")
    parser.add_argument("--json", action="store_true", help="print the proposal as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    approve = args.choice == "approve"
    if is_provider_approval(args.id):
        answered = run_mutating(
            args,
            "vote",
            lambda actions: vote_on_provider_approval(actions, args.id, approve, args.comment),
            json_out=args.json,
        )
        if args.json:
            print_json(answered.to_json())
        else:
            print(neutralise(answered.describe()))
        return 0
    pid = parse_id(args.id)
    result = run_mutating(
        args, "vote", lambda actions: actions.vote(pid, approve, args.comment), json_out=args.json
    )
    return emit(args, result.proposal, result.outcome)
