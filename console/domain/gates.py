"""Quorum's consensus over a provider's own approval (a gate), with the proposals' rules.

A gate's votes are tallied by `console.domain.consensus` exactly like a proposal's:
one person one vote, `vote_ttl`, `min_approvals`, `block_on_rejections`, the
rotation holder. A gate has no proposer among the team (the backend asked) and no
revision that could move under the votes, so neither self-approval nor stale
votes apply. The decision says what to send the provider, if anything yet.

Like a proposal's acts, a stored vote counts only when its author is a current
member and, where the team has keys, its signature verifies over the gate's id and
environment (`GateVoteAct.message`): a row inserted or edited with plain sqlite3
proves nothing and does not move the gate.
"""

from __future__ import annotations

from datetime import datetime

from console.domain import consensus as rules
from console.domain.acts import GateVoteAct
from console.domain.consensus import Kind, Proposal, Tally, Vote
from console.domain.derive import CLOCK_SKEW, Signed, Verifier, refusal
from console.domain.model import TargetRef
from console.domain.settings import Policy

APPROVED = "approved"
REJECTED = "rejected"


def ballot(
    gate: str, environment: str, voter: str, approve: bool, now: datetime, comment: str = ""
) -> GateVoteAct:
    return GateVoteAct(gate, environment, voter, approve, now, comment)


def counted(
    stored: tuple[Signed[GateVoteAct], ...],
    now: datetime,
    *,
    verify: Verifier | None,
    members: frozenset[str] | None,
) -> tuple[tuple[Vote, ...], tuple[tuple[Signed[GateVoteAct], str], ...]]:
    """The stored votes on one gate that count, and those that do not with why: the
    same tests as a proposal's acts (`derive.refusal`). The store builds each act with
    the gate's id and environment as the provider lists them now, so a signature made
    for another gate or environment does not verify."""
    votes: list[Vote] = []
    ignored: list[tuple[Signed[GateVoteAct], str]] = []
    for signed in stored:
        act = signed.act
        why = refusal(signed, act.message, verify, members)
        if not why and act.at > now + CLOCK_SKEW:
            why = f"dated {act.at:%Y-%m-%d %H:%M:%S}Z, in the future"
        if why:
            ignored.append((signed, why))
            continue
        votes.append(Vote(act.voter, act.approve, act.at, act.gate, act.comment))
    return tuple(votes), tuple(ignored)


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
