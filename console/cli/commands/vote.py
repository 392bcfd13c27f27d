"""`quorum vote ID approve|reject [--revision REV] [--comment TEXT] [--json]`.

A second vote by the same person replaces the first. When the vote completes the
quorum, the change executes in this same command and its outcome is printed.
The vote is signed over what the proposal asks for at this moment; `--revision`
names the revision the voter read, and the vote is refused if it changed since.

An id of the form `PROVIDER:REFERENCE` (`ci:4242/production`, as `quorum
approvals` lists it) is a provider's own approval: the vote is sent to it as the
voter's review, or held until Quorum's quorum where the policy says
`forward_after_quorum`.
"""

from __future__ import annotations

import argparse

from console.cli.output import print_json
from console.cli.runner import emit, run_mutating
from console.domain.errors import PolicyRefused
from console.domain.inert import neutralise
from console.engine.actions import Actions, Result
from console.engine.provider_votes import is_provider_approval, vote_on_provider_approval
from console.store.proposals import parse_id


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "vote", parents=[common], help="approve or reject a proposal or a provider approval"
    )
    parser.add_argument("id", metavar="ID", help="a proposal id, or PROVIDER:REFERENCE")
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
        # The command is the voter's agreement: completing the quorum runs the change
        # now, as documented; `--revision` is what binds the vote to what they read.
        return await actions.vote(pid, approve, args.comment, seen_version=seen, confirmed_run=True)

    result = run_mutating(args, "vote", cast, json_out=args.json)
    return emit(args, result.proposal, result.outcome)
