"""`quorum approvals [--json]`: what waits for people.

Open proposals with their votes and what each still needs, the approvals providers
hold themselves (GitHub environments, GitLab deployments), overrides awaiting
review, and actions that started and never finished.
"""

from __future__ import annotations

import argparse
import sys

from console.cli.output import Streamed, print_json, print_table
from console.cli.runner import print_proposal, proposal_json, run_reading
from console.domain.inert import neutralise
from console.domain.instants import iso_utc
from console.domain.model import ProviderApproval
from console.engine import collector
from console.engine.actions import Actions
from console.engine.provider_votes import GateTally, fetch_gate_tallies
from console.engine.waiting import Waiting, people_first, what_waits


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "approvals", parents=[common], help="open proposals and provider approvals, with votes"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON object")
    parser.set_defaults(func=run)


async def _collect(actions: Actions) -> tuple[Waiting, dict[str, GateTally]]:
    """What waits, and Quorum's tally of each provider approval held until the quorum."""
    waiting = await what_waits(actions)
    return waiting, await fetch_gate_tallies(actions, waiting.provider_approvals)


def _approval_json(a: ProviderApproval, held: GateTally | None) -> dict[str, object]:
    return {
        "provider": a.provider,
        "id": a.id,
        "title": a.title,
        "environment": a.environment,
        "url": a.url,
        "requested_at": a.requested_at,
        "service": a.service,
        "requested_by": a.requested_by,
        "detail": a.detail,
        "quorum": None
        if held is None
        else {
            "approvals": list(held.tally.approvals),
            "rejections": list(held.tally.rejections),
            "needed": held.tally.needed,
            "summary": held.tally.summary(),
            "not_counted": [{"by": who, "why": why} for who, why in held.not_counted],
        },
    }


def _votes(tallies: dict[str, GateTally], approval: ProviderApproval) -> str:
    """Quorum's tally where the approval waits for it, naming the stored votes that do
    not count; else each vote is sent at once."""
    held = tallies.get(approval.id)
    if held is None:
        return "each vote sent at once"
    ignored = "".join(f"; {who}'s vote not counted: {why}" for who, why in held.not_counted)
    return held.tally.summary() + ignored


def run(args: argparse.Namespace) -> int:
    """The whole command runs with the cyclic collector paused. Thousands of proposals
    are read, derived, viewed and written out as as many values that only reference
    counting needs to free; with the collector paused block by block, each block's end
    made it walk everything built inside (tens of ms at 10,000 open). The process ends
    with the command, and the few cycles it leaves with it."""
    with collector.paused():
        return _report(args)


def _report(args: argparse.Namespace) -> int:
    waiting, tallies = run_reading(args, _collect)
    if args.json:
        print_json(
            {
                "proposals": Streamed(waiting.proposals, proposal_json),
                "provider_approvals": [
                    _approval_json(a, tallies.get(a.id)) for a in waiting.provider_approvals
                ],
                "awaiting_review": Streamed(waiting.awaiting_review, proposal_json),
                "incomplete_actions": [r.to_json() for r in waiting.incomplete],
                "provider_errors": waiting.provider_errors,
            }
        )
        return 1 if waiting.provider_errors else 0
    # In the console's order (people_first): the newest of what waits at the top.
    if not waiting.proposals:
        print("no open proposals")
    for view in people_first(waiting.proposals):
        print_proposal(view)
    if waiting.provider_approvals:
        print("\nwaiting in providers (quorum vote ID approve|reject):")
        print_table(
            ["id", "environment", "title", "requested", "votes"],
            [
                [a.id, a.environment, a.title, iso_utc(a.requested_at) or "", _votes(tallies, a)]
                for a in people_first(waiting.provider_approvals)
            ],
        )
    if waiting.awaiting_review:
        print("\noverrides awaiting review:")
        for view in people_first(waiting.awaiting_review):
            print_proposal(view)
    if waiting.incomplete:
        print("\nactions that never finished (quorum actions resolve KEY --outcome ...):")
        for r in waiting.incomplete:
            print(neutralise(f"  {r.key}  {r.action} {r.ref.service}@{r.ref.environment}"))
    for error in waiting.provider_errors:
        print(neutralise(f"quorum: provider {error}"), file=sys.stderr)
    return 1 if waiting.provider_errors else 0
