"""`quorum approvals [--json]`: what waits for people.

Open proposals with their votes and what each still needs, the approvals providers
hold themselves (GitHub environments, GitLab deployments), overrides awaiting
review, and actions that started and never finished.
"""

from __future__ import annotations

import argparse
import sys

from console.cli.output import print_json, print_table
from console.cli.runner import print_proposal, proposal_json, run_reading
from console.domain.inert import neutralise
from console.domain.instants import iso_utc
from console.domain.model import ProviderApproval
from console.engine.waiting import what_waits


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "approvals", parents=[common], help="open proposals and provider approvals, with votes"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON object")
    parser.set_defaults(func=run)


def _approval_json(a: ProviderApproval) -> dict[str, object]:
    return {
        "provider": a.provider,
        "id": a.id,
        "title": a.title,
        "environment": a.environment,
        "url": a.url,
        "requested_at": a.requested_at,
    }


def run(args: argparse.Namespace) -> int:
    waiting = run_reading(args, what_waits)
    if args.json:
        print_json(
            {
                "proposals": [proposal_json(v) for v in waiting.proposals],
                "provider_approvals": [_approval_json(a) for a in waiting.provider_approvals],
                "awaiting_review": [proposal_json(v) for v in waiting.awaiting_review],
                "incomplete_actions": [r.to_json() for r in waiting.incomplete],
                "provider_errors": waiting.provider_errors,
            }
        )
        return 1 if waiting.provider_errors else 0
    if not waiting.proposals:
        print("no open proposals")
    for view in waiting.proposals:
        print_proposal(view)
    if waiting.provider_approvals:
        print("\nwaiting in providers:")
        print_table(
            ["provider", "id", "environment", "title", "requested"],
            [
                [a.provider, a.id, a.environment, a.title, iso_utc(a.requested_at) or ""]
                for a in waiting.provider_approvals
            ],
        )
    if waiting.awaiting_review:
        print("\noverrides awaiting review:")
        for view in waiting.awaiting_review:
            print_proposal(view)
    if waiting.incomplete:
        print("\nactions that never finished (quorum actions resolve KEY --outcome ...):")
        for r in waiting.incomplete:
            print(neutralise(f"  {r.key}  {r.action} {r.ref.service}@{r.ref.environment}"))
    for error in waiting.provider_errors:
        print(neutralise(f"quorum: provider {error}"), file=sys.stderr)
    return 1 if waiting.provider_errors else 0
