"""Quorum's consensus over a provider's own approval (a gate), with the proposals' rules.

A gate's votes are tallied by `console.domain.consensus` exactly like a proposal's:
one person one vote, `vote_ttl`, `min_approvals`, `block_on_rejections`, the
rotation holder. A gate has no proposer among the team (the backend asked) and no
revision that could move under the votes, so neither self-approval nor stale
votes apply. The decision says what to send the provider, if anything yet.
"""

from __future__ import annotations

from datetime import datetime

from console.domain import consensus as rules
from console.domain.consensus import Kind, Proposal, Tally, Vote
from console.domain.model import TargetRef
from console.domain.settings import Policy

APPROVED = "approved"
REJECTED = "rejected"


def ballot(gate: str, voter: str, approve: bool, now: datetime, comment: str = "") -> Vote:
    return Vote(voter=voter, approve=approve, at=now, revision=gate, comment=comment)


def tally(
    gate: str,
    votes: tuple[Vote, ...],
    policy: Policy,
    now: datetime,
    rotation_holder: str | None = None,
) -> Tally:
    as_proposal = Proposal(
        id=0,
        kind=Kind.DEPLOY,
        ref=TargetRef("", "", policy.environment, gate),
        revision=gate,
        proposer="",
        reason="",
        created_at=now,
        updated_at=now,
        votes=votes,
    )
    return rules.tally(as_proposal, policy, now, rotation_holder)


def decision(result: Tally) -> str | None:
    """`rejected` once the rejections block, `approved` at the quorum, else None (wait)."""
    if result.blocked:
        return REJECTED
    if result.quorum:
        return APPROVED
    return None


def answer_comment(result: Tally, votes: tuple[Vote, ...], state: str) -> str:
    """The one review sent for the team: who decided, and their comments."""
    names = result.approvals if state == APPROVED else result.rejections
    verb = "Approved" if state == APPROVED else "Rejected"
    comments = [f"{v.voter}: {v.comment}" for v in votes if v.voter in names and v.comment]
    text = f"{verb} by consensus in Quorum ({', '.join(names)}; {result.summary()})"
    return text + ("\n" + "\n".join(comments) if comments else "")
