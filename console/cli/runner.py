"""What the consensus commands share: a session with `Actions`, the teammates' turn,
and one way to print a proposal or an execution.

Kept outside `console/cli/commands/` because every module there is a command.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from console.cli.output import iso_utc, print_json
from console.domain.errors import PolicyRefused
from console.domain.inert import neutralise
from console.domain.model import Target, utcnow
from console.engine.actions import Actions, Outcome, ProposalView
from console.engine.audit_watch import check_and_note
from console.engine.sandbox_teammates import teammates_step
from console.engine.session import open_session
from console.engine.targets import resolve_target

T = TypeVar("T")


def refuse_if_readonly(args: argparse.Namespace, doing: str) -> None:
    """`--readonly` removes every mutating command: refused by policy, exit 3."""
    if args.readonly:
        raise PolicyRefused(f"read-only console (--readonly): cannot {doing}")


def run_actions(
    args: argparse.Namespace,
    work: Callable[[Actions], Awaitable[T]],
    *,
    json_out: bool = False,
    mutating: bool = True,
) -> T:
    """Runs `work` with an `Actions` for this command; a mutating command first lets the
    sandbox teammates take their turn and runs any approved proposal whose execution a
    crashed process never started (saying so). Reading commands (`mutating=False`) only
    read: nothing runs under the identity of someone who asked to look.

    A deploy command's output is streamed neutralised, to stderr when stdout carries JSON.
    """
    out = sys.stderr if json_out else sys.stdout

    def show(line: str) -> None:
        out.write(neutralise(line) + "\n")
        out.flush()

    async def main() -> T:
        session = open_session(args)
        gone = check_and_note(session.audit_path)
        if gone:
            print(neutralise(f"quorum: warning: {gone}"), file=sys.stderr)
        actions = Actions(session, on_output=show)
        try:
            if mutating and not session.readonly:
                for vote in await teammates_step(actions, utcnow()):
                    print(f"sandbox: {neutralise(vote.describe())}", file=sys.stderr)
                for outcome in await actions.run_approved():
                    if isinstance(outcome, PolicyRefused):
                        line = f"quorum: an approved proposal was not run: {outcome}"
                    else:
                        line = (
                            f"approved earlier, ran now as {actions.identity.name}: "
                            f"{describe_outcome(outcome)}"
                        )
                    print(neutralise(line), file=sys.stderr)
            return await work(actions)
        finally:
            actions.close()
            await session.close()
            check_and_note(session.audit_path)  # the head this command leaves behind

    return asyncio.run(main())


async def target_of(actions: Actions, service: str, environment: str) -> Target:
    return await resolve_target(actions.session, service, environment)


def proposal_json(view: ProposalView, outcome: Outcome | None = None) -> dict[str, object]:
    return {**view.to_json(), "execution": outcome.to_json() if outcome else None}


def print_proposal(view: ProposalView, outcome: Outcome | None = None) -> None:
    """The proposal for people: its id first, then what it still needs and its votes."""
    p = view.proposal
    lines = [f"{p.id}  {p.state.value}  {p.describe()}  (proposed by {p.proposer})"]
    if p.reason:
        lines.append(f"    reason: {p.reason}")
    lines.append(f"    {view.summary}")
    counted = set(view.tally.approvals) | set(view.tally.rejections)
    for v in p.votes:
        verdict = "approve" if v.approve else "reject"
        lapsed = "" if v.voter in counted else " (no longer counts)"
        comment = f": {v.comment}" if v.comment else ""
        lines.append(f"    {v.voter} {verdict} at {iso_utc(v.at)}{lapsed}{comment}")
    for signed, why in view.ignored:
        act = type(signed.act).__name__.removesuffix("Act").lower()
        lines.append(f"    not counted: {act} by {signed.act.author}: {why}")
    if p.awaiting_review:
        lines.append(f"    override by {p.override_by} awaits review by someone else")
    elif p.reviewed_by:
        lines.append(f"    override by {p.override_by} reviewed by {p.reviewed_by}")
    if outcome is not None:
        lines.append("    " + describe_outcome(outcome))
    for line in lines:
        print(neutralise(line))


def describe_outcome(outcome: Outcome) -> str:
    state = "finished" if outcome.ok else "failed"
    if outcome.replayed:
        return f"{outcome.action} already ran with key {outcome.key}: {state} ({outcome.detail})"
    return f"{outcome.action} {state}: {outcome.detail} (key {outcome.key})"


def emit(args: argparse.Namespace, view: ProposalView, outcome: Outcome | None) -> int:
    """Prints a proposal step the way the command was asked to; 1 when its execution failed."""
    if args.json:
        print_json(proposal_json(view, outcome))
    else:
        print_proposal(view, outcome)
    return 1 if outcome is not None and not outcome.ok else 0


def emit_outcome(args: argparse.Namespace, outcome: Outcome) -> int:
    if getattr(args, "json", False):
        print_json(outcome.to_json())
    else:
        print(neutralise(describe_outcome(outcome)))
    return 0 if outcome.ok else 1
