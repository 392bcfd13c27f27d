"""A proposal's state derived from the acts that prove their author, and from nothing else.

Whoever can write the shared file can insert rows, edit a state, or delete a
rejection. So no stored state is believed: every read, and again the execution
claim, rebuilds the proposal by replaying its acts in time order through the very
rules of `console.domain.consensus` that decided them when they were made. An act
counts only if its author is a current member and, where signatures are in use,
its signature verifies over the bytes of `console.domain.acts`: a vote over the
content it saw, so one cast before an amendment, or forged onto another proposal,
counts for nothing. Acts that do not count are returned with the reason, so the
console and `quorum approvals` can name them.

Pure: the caller supplies the verifier, the members, the policy, the clock, the
rotation holder and the execution's outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from console.domain import consensus as rules
from console.domain.acts import (
    AmendAct,
    Content,
    OverrideAct,
    ProposalAct,
    ReviewAct,
    VoteAct,
    WithdrawAct,
)
from console.domain.consensus import Proposal, State, Vote
from console.domain.errors import PolicyRefused, QuorumError
from console.domain.settings import Policy

A = TypeVar("A")
# (author, message, signature) -> whether the signature is the author's over the message.
Verifier = Callable[[str, bytes, str], bool]
Act = ProposalAct | AmendAct | VoteAct | OverrideAct | WithdrawAct | ReviewAct
# How far ahead of the reader's clock an act may be dated: the signer's clock may run
# a little fast, but a vote dated next week must not stay valid for a week longer.
CLOCK_SKEW = timedelta(minutes=5)
_RANK = {ProposalAct: 0, AmendAct: 1, VoteAct: 2, WithdrawAct: 3, OverrideAct: 4, ReviewAct: 5}


@dataclass(frozen=True, slots=True)
class Signed(Generic[A]):
    act: A
    signature: str = ""  # the SSHSIG blob's base64; "" when unsigned


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything stored about one proposal; none of it trusted until `derive` checks it."""

    proposal: Signed[ProposalAct]
    amendments: tuple[Signed[AmendAct], ...] = ()
    votes: tuple[Signed[VoteAct], ...] = ()
    overrides: tuple[Signed[OverrideAct], ...] = ()
    withdrawals: tuple[Signed[WithdrawAct], ...] = ()
    reviews: tuple[Signed[ReviewAct], ...] = ()

    def acts(self) -> list[Signed]:
        return [
            self.proposal,
            *self.amendments,
            *self.votes,
            *self.overrides,
            *self.withdrawals,
            *self.reviews,
        ]


@dataclass(frozen=True, slots=True)
class Derived:
    proposal: Proposal
    counted: tuple[Signed, ...]  # the acts replayed, in order
    ignored: tuple[tuple[Signed, str], ...]  # the acts that did not count, and why
    # The tally the state was decided by, at the derivation's instant; None when votes
    # no longer decided it (approved, expired, settled, invalid). A view shows it as is.
    tally: rules.Tally | None = None

    @property
    def valid(self) -> bool:
        return self.proposal.state is not State.INVALID


def derive(
    facts: Facts,
    policy: Policy,
    now: datetime,
    *,
    verify: Verifier | None,
    members: frozenset[str] | None,
    rotation_holder: str | None = None,
    outcome: tuple[bool, str] | None = None,
) -> Derived:
    """The proposal as its verified acts make it at `now`.

    `verify` None means the team has no keys: acts count unsigned (members still
    checked). `members` None means the config lists no team, so anyone may act.
    `outcome` is how the execution ended, if it did.
    """
    base = facts.proposal.act
    contents = {1: base.content}
    proposal = Proposal(
        id=base.content.id,
        kind=base.content.kind,
        ref=base.content.ref,
        revision=base.content.revision,
        proposer=base.proposer,
        reason=base.reason,
        created_at=base.at,
        updated_at=base.at,
        replicas=base.content.replicas,
    )
    why = refusal(facts.proposal, base.message, verify, members)
    if why:
        return Derived(replace(proposal, state=State.INVALID), (), ((facts.proposal, why),))
    proposal, tally = rules.judge(proposal, policy, base.at, rotation_holder)
    counted: list[Signed] = [facts.proposal]
    ignored: list[tuple[Signed, str]] = []
    others = sorted(facts.acts()[1:], key=lambda s: (s.act.at, _RANK[type(s.act)]))
    for signed in others:
        act = signed.act
        if act.at > now + CLOCK_SKEW:
            ignored.append((signed, f"dated {act.at:%Y-%m-%d %H:%M:%S}Z, in the future"))
            continue
        if act.proposal_id != proposal.id:
            ignored.append((signed, f"signed for proposal {act.proposal_id}"))
            continue
        message = _message(act, contents)
        if message is None:
            ignored.append((signed, f"signed over version {act.version}, which never existed"))
            continue
        why = refusal(signed, lambda known=message: known, verify, members)
        if why:
            ignored.append((signed, why))
            continue
        try:
            proposal = _apply(proposal, act, policy, rotation_holder, contents)
        except QuorumError as exc:
            ignored.append((signed, str(exc)))
            continue
        if isinstance(act, AmendAct):
            contents[act.version] = replace(contents[1], version=act.version, revision=act.revision)
        counted.append(signed)
    # With no act replayed after its own, the proposal has no votes: its tally when it
    # was made is its tally now.
    known = tally if len(counted) == 1 else None
    proposal, tally = rules.judge(proposal, policy, now, rotation_holder, known)
    if outcome is not None and proposal.state is State.APPROVED:
        proposal = rules.settle(proposal, ok=outcome[0], detail=outcome[1])
    return Derived(proposal, tuple(counted), tuple(ignored), tally)


def apply_act(
    proposal: Proposal, act: Act, policy: Policy, rotation_holder: str | None = None
) -> Proposal:
    """`proposal` after a new act on its current version, by the rules; raises what they
    refuse. The write path runs this before it signs and stores an act, so an act that
    would not count is refused with the rule's own reason instead of being kept."""
    version = getattr(act, "version", proposal.version)
    if isinstance(act, AmendAct):
        version -= 1
    if version != proposal.version:
        raise PolicyRefused(
            f"proposal {proposal.id} changed since it was read: it is at version "
            f"{proposal.version} ({proposal.describe()})"
        )
    return _apply(proposal, act, policy, rotation_holder, {proposal.version: content_at(proposal)})


def message_for(act: Act, proposal: Proposal) -> bytes:
    """The bytes the author of a new `act` on `proposal` (at its current version) signs."""
    return _message(act, {proposal.version: content_at(proposal)}) or b""


def content_at(proposal: Proposal) -> Content:
    """What `proposal` asks for at its current version, as voters sign it."""
    return Content(
        proposal.id,
        proposal.version,
        proposal.kind,
        proposal.ref,
        proposal.revision,
        proposal.replicas,
    )


def _message(act: Act, contents: dict[int, Content]) -> bytes | None:
    if isinstance(act, VoteAct | OverrideAct | WithdrawAct):
        seen = contents.get(act.version)
        return None if seen is None else act.message(seen)
    return act.message()


def refusal(
    signed: Signed,
    message: Callable[[], bytes],
    verify: Verifier | None,
    members: frozenset[str] | None,
) -> str:
    """Why `signed` does not count, or "". `message` is built only to check a signature:
    a team without keys (`verify` None) never pays for encoding it."""
    author = signed.act.author
    if members is not None and author not in members:
        return f"{author} is not a member of the team"
    if verify is None:
        return ""
    if not signed.signature:
        return f"not signed by {author}"
    if not verify(author, message(), signed.signature):
        return f"the signature is not {author}'s over this content"
    return ""


def _apply(
    p: Proposal, act: Act, policy: Policy, holder: str | None, contents: dict[int, Content]
) -> Proposal:
    if isinstance(act, AmendAct):
        if act.version != p.version + 1:
            raise QuorumError(f"amends to version {act.version}, the proposal is at {p.version}")
        return rules.amend(
            p, policy, by=act.by, revision=act.revision, now=act.at, rotation_holder=holder
        )
    if isinstance(act, VoteAct):
        seen = contents[act.version].revision
        ballot = Vote(act.voter, act.approve, act.at, seen, act.comment, act.version)
        return rules.add_vote(p, policy, ballot, holder)
    if isinstance(act, OverrideAct):
        if act.version != p.version:
            raise QuorumError(f"overrides version {act.version}; it was amended since")
        return rules.override(p, policy, by=act.by, reason=act.reason, now=act.at)
    if isinstance(act, WithdrawAct):
        if act.version != p.version:
            raise QuorumError(f"withdraws version {act.version}; it was amended since")
        return rules.withdraw(p, policy, by=act.by, now=act.at)
    assert isinstance(act, ReviewAct)
    if act.override_by != p.override_by or act.override_at != p.override_at:
        raise QuorumError("reviews an override this proposal does not have")
    return rules.review(p, by=act.by, comment=act.comment, now=act.at)
