"""`quorum deploy|rollback|restart|scale|pause|resume SERVICE --env ENV ...`: direct changes.

`deploy`, `restart`, `scale` and `resume` execute where the environment's policy
needs no votes; where it does, they open a proposal and exit 3 saying so (with
`--json`, the proposal is printed); where the same change is already proposed and
pending, they open none, exit 3 naming it (`--json`: that proposal, `already_open`
true). `rollback` and `pause` (the emergency brake on a rollout) need no vote anywhere
and notify the team.
`--key` makes a retry safe: a key that already ran is not run again.
"""

from __future__ import annotations

import argparse

from console.cli.output import print_json
from console.cli.runner import (
    emit_outcome,
    proposal_json,
    run_mutating,
    target_of,
)
from console.domain.bounds import MAX_REPLICAS, count_type
from console.domain.consensus import Kind
from console.engine.actions import Actions, AlreadyProposed, NeedsConsensus, Outcome


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text)
        p.add_argument("service")
        p.add_argument("--env", required=True, metavar="ENV", help="environment")
        p.add_argument(
            "--provider",
            default="",
            metavar="NAME",
            help="the provider to act on, where several run SERVICE in ENV",
        )
        p.add_argument("--key", metavar="KEY", help="idempotency key (a retry never runs twice)")
        p.add_argument("--json", action="store_true", help="print the outcome as JSON")
        p.set_defaults(func=run, action=name)
        return p

    deploy = add("deploy", "deploy a revision (opens a proposal where the policy needs votes)")
    deploy.add_argument("--revision", required=True, metavar="REV", help="the revision to deploy")
    deploy.add_argument(
        "--reason",
        default="",
        metavar="TEXT",
        help="why: the proposal's reason where votes are needed, else in the audit log",
    )
    add("rollback", "roll back now: anyone, no vote, team notified").add_argument(
        "--to", metavar="REV", help="revision to go back to (default: the previous one)"
    )
    add("restart", "restart a target (opens a proposal where the policy needs votes)")
    add("scale", "scale a target (opens a proposal where the policy needs votes)").add_argument(
        "--replicas", type=count_type(0, MAX_REPLICAS), required=True, metavar="N"
    )
    add("pause", "pause a rollout now: anyone, no vote, team notified")
    add("resume", "resume a paused rollout (opens a proposal where the policy needs votes)")


async def _act(args: argparse.Namespace, actions: Actions) -> Outcome:
    ref = (await target_of(actions, args.service, args.env, args.provider, Kind(args.action))).ref
    return await actions.change(
        Kind(args.action),
        ref,
        revision=getattr(args, "revision", None) or getattr(args, "to", None) or "",
        replicas=getattr(args, "replicas", None),
        key=args.key,
        reason=getattr(args, "reason", ""),
    )


def run(args: argparse.Namespace) -> int:
    try:
        outcome = run_mutating(
            args, args.action, lambda actions: _act(args, actions), json_out=args.json
        )
    except NeedsConsensus as exc:
        if args.json:
            print_json(proposal_json(exc.view))
        raise
    except AlreadyProposed as exc:
        if args.json:
            print_json({**proposal_json(exc.view), "already_open": True})
        raise
    return emit_outcome(args, outcome)
