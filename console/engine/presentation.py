"""How outcomes and proposals read, for the command line and the console alike.

Plain text, not yet inert: whoever writes it to a terminal or a widget neutralises it
(`console.domain.inert`), since details and comments come from backends and people.
"""

from __future__ import annotations

from console.domain.consensus import Proposal
from console.domain.instants import iso_utc
from console.engine.actions import Outcome, ProposalView, Result


def describe_outcome(outcome: Outcome) -> str:
    """One execution: "deploy finished: <detail> (key K)", or that the key ran before."""
    state = "finished" if outcome.ok else "failed"
    if outcome.replayed:
        return f"{outcome.action} already ran with key {outcome.key}: {state} ({outcome.detail})"
    return f"{outcome.action} {state}: {outcome.detail} (key {outcome.key})"


def describe_result(done: str, result: Result | Outcome | object) -> str:
    """What a change did, after `done` ("approved proposal 4"): its execution if one ran,
    else what the proposal still needs. A direct change that failed is only its failure:
    `done` ("scaled api@dev to 99") would say it happened."""
    if isinstance(result, Result):
        if result.outcome is not None:
            return f"{done}, ran: {describe_outcome(result.outcome)}"
        return f"{done}: {result.proposal.summary}"
    if isinstance(result, Outcome):
        return f"{done}: {describe_outcome(result)}" if result.ok else describe_outcome(result)
    return done


def override_note(p: Proposal) -> str:
    """An emergency override and where its review stands (named so, as a rotation's
    override is another thing); "" for a proposal never overridden."""
    if not p.overridden:
        return ""
    by = f"emergency override by {p.override_by}: {p.override_reason}"
    if p.awaiting_review:
        return f"{by}; awaits review by someone else"
    comment = f": {p.review_comment}" if p.review_comment else ""
    return f"{by}; reviewed by {p.reviewed_by}{comment}"


def proposal_lines(view: ProposalView, outcome: Outcome | None = None) -> list[str]:
    """The proposal for people: its id first, then what it still needs, its votes (saying
    which no longer count), its override, and the execution that just ran, if any."""
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
    if p.overridden:
        lines.append(f"    {override_note(p)}")
    if outcome is not None:
        lines.append("    " + describe_outcome(outcome))
        if outcome.warning:
            lines.append(f"    warning: {outcome.warning}")
    return lines
