"""`quorum propose deploy|rollback|restart|scale|amend|withdraw ...`: open and steer proposals.

`deploy` and `rollback` are the design's fixed forms; `restart`, `scale`, `amend`
(the proposer moves it to another revision, which dismisses stale votes where the
policy says so) and `withdraw` complete them. The same change already proposed and
pending is not proposed twice: exit 3 naming it (`--json`: that proposal, with
`already_open` true).
"""

from __future__ import annotations

import argparse

from console.cli.output import print_json
from console.cli.runner import emit, proposal_json, run_mutating, target_of
from console.domain.bounds import MAX_REPLICAS, count_type
from console.domain.consensus import Kind
from console.engine.actions import Actions, AlreadyProposed, Result
from console.store.proposals import parse_id


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("propose", parents=[common], help="open a proposal for a change")
    kinds = parser.add_subparsers(dest="proposal", metavar="KIND", required=True)

    def add(name: str, help_text: str, *, target: bool = True) -> argparse.ArgumentParser:
        p = kinds.add_parser(name, parents=[common], help=help_text)
        if target:
            p.add_argument("service")
            p.add_argument("--env", required=True, metavar="ENV", help="environment")
            p.add_argument("--reason", default="", metavar="TEXT", help="why, for the voters")
            p.add_argument(
                "--provider",
                default="",
                metavar="NAME",
                help="the provider to act on, where several run SERVICE in ENV",
            )
        p.add_argument("--json", action="store_true", help="print the proposal as JSON")
        p.set_defaults(func=run)
        return p

    add("deploy", "propose moving a target to a revision").add_argument(
        "--revision", required=True, metavar="REV"
    )
    add("rollback", "propose rolling a target back").add_argument(
        "--to", metavar="REV", help="revision to go back to (default: the previous one)"
    )
    add("restart", "propose restarting a target")
    add("scale", "propose scaling a target").add_argument(
        "--replicas", type=count_type(0, MAX_REPLICAS), required=True, metavar="N"
    )
    amend = add("amend", "move your proposal to another revision", target=False)
    amend.add_argument("id", metavar="ID")
    amend.add_argument("--revision", required=True, metavar="REV")
    withdraw = add("withdraw", "withdraw your proposal", target=False)
    withdraw.add_argument("id", metavar="ID")


async def _step(args: argparse.Namespace, actions: Actions) -> Result:
    if args.proposal == "amend":
        return await actions.amend(parse_id(args.id), args.revision)
    if args.proposal == "withdraw":
        return await actions.withdraw(parse_id(args.id))
    kind = Kind(args.proposal)
    target = await target_of(actions, args.service, args.env, args.provider, kind)
    return await actions.propose(
        kind,
        target.ref,
        revision=getattr(args, "revision", None) or getattr(args, "to", None) or "",
        replicas=getattr(args, "replicas", None),
        reason=args.reason,
    )


def run(args: argparse.Namespace) -> int:
    try:
        result = run_mutating(
            args, f"propose {args.proposal}", lambda a: _step(args, a), json_out=args.json
        )
    except AlreadyProposed as exc:
        if args.json:
            print_json({**proposal_json(exc.view), "already_open": True})
        raise
    return emit(args, result.proposal, result.outcome)
