"""The consensus rules: how votes turn a proposal into an approved change, or do not.

Pure functions over frozen values, with no I/O and no clock of their own: storage
(`console.store.proposals`) runs them inside one SQLite write transaction, and the
property tests run the very same functions over generated vote sequences.

The rules, per environment policy (`console.domain.settings.Policy`):
- one person, one vote: a second vote by the same person replaces the first;
- a vote counts while it is younger than `vote_ttl`, and, with
  `dismiss_stale_votes`, only if it was cast on the proposal's current revision
  and version (each amendment makes a new version);
- the proposer's own approval is refused unless `allow_self_approval`;
- `block_on_rejections` valid rejections block (default 2, so no single veto);
  a blocked proposal reopens if a rejection is changed or lapses;
- `min_approvals` valid approvals, plus the approval of the holder of
  `require_rotation_approval` where the policy names a rotation, approve it;
- a proposal with no activity for `vote_ttl` expires;
- an emergency override approves at once with a mandatory reason, flagged, and
  waits for a review by someone other than its author.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from console.domain.errors import PolicyRefused, UsageError
from console.domain.inert import UNSAFE, has_visible_text
from console.domain.model import TargetRef
from console.domain.settings import Policy


class Kind(StrEnum):
    DEPLOY = "deploy"
    ROLLBACK = "rollback"
    RESTART = "restart"
    SCALE = "scale"
    PAUSE = "pause"
    RESUME = "resume"


class State(StrEnum):
    OPEN = "open"
    APPROVED = "approved"
    BLOCKED = "blocked"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    EXECUTED = "executed"
    FAILED = "failed"
    INVALID = "invalid"  # its own act does not prove its proposer: it never counts
    # Made before Quorum kept signed acts: readable as it was recorded, never counts.
    LEGACY = "legacy"


# States in which votes, amendments and overrides still apply.
VOTABLE = frozenset({State.OPEN, State.BLOCKED})
FINAL = frozenset(
    {State.EXPIRED, State.WITHDRAWN, State.EXECUTED, State.FAILED, State.INVALID, State.LEGACY}
)


@dataclass(frozen=True, slots=True)
class Vote:
    voter: str
    approve: bool
    at: datetime
    revision: str  # the proposal's revision when the vote was cast
    comment: str = ""
    version: int = 1  # the proposal's version the voter saw (each amendment adds one)


@dataclass(frozen=True, slots=True)
class Proposal:
    """A gated change and everything that happened to it."""

    id: int
    kind: Kind
    ref: TargetRef
    revision: str  # the revision to move to; "" for restart, a rollback to "previous"
    proposer: str
    reason: str
    created_at: datetime
    updated_at: datetime  # last activity: creation, amendment or vote (drives expiry)
    state: State = State.OPEN
    votes: tuple[Vote, ...] = ()
    replicas: int | None = None  # scale only
    override_by: str = ""
    override_reason: str = ""
    override_at: datetime | None = None
    reviewed_by: str = ""
    reviewed_at: datetime | None = None
    review_comment: str = ""
    detail: str = ""  # the provider's or deploy command's last word on execution
    version: int = 1  # 1 when proposed; each amendment adds one, and a vote names the one it saw

    @property
    def overridden(self) -> bool:
        return bool(self.override_by)

    @property
    def awaiting_review(self) -> bool:
        return self.overridden and not self.reviewed_by

    def describe(self) -> str:
        """One line for people: what the change does to which target."""
        what = f"{self.kind.value} {self.ref.service}@{self.ref.environment}"
        if self.kind is Kind.SCALE:
            return f"{what} to {self.replicas} replicas"
        if self.revision:
            return f"{what} to {self.revision}"
        return f"{what} to the previous revision" if self.kind is Kind.ROLLBACK else what


@dataclass(frozen=True, slots=True)
class Tally:
    """What the valid votes add up to under a policy, at one instant."""

    approvals: tuple[str, ...]
    rejections: tuple[str, ...]
    dismissed: tuple[str, ...]  # voters whose vote no longer counts (lapsed or stale)
    min_approvals: int
    block_on_rejections: int
    rotation: str | None = None
    rotation_holder: str | None = None
    # The rotation's holder proposed the change and the policy refuses self-approval:
    # the one approval the rotation needs can never be given.
    holder_proposed: bool = False

    @property
    def needed(self) -> int:
        """Approvals still missing towards `min_approvals`."""
        return max(0, self.min_approvals - len(self.approvals))

    @property
    def rotation_missing(self) -> bool:
        if not self.rotation:
            return False
        return self.rotation_holder is None or self.rotation_holder not in self.approvals

    @property
    def blocked(self) -> bool:
        return len(self.rejections) >= self.block_on_rejections

    @property
    def stuck(self) -> str:
        """Why no vote can ever approve the proposal, and what unblocks it; "" when votes
        still can. The holder is fixed when the proposal is made, so handing the
        rotation over later does not change who must approve this one."""
        if not (self.rotation_missing and self.holder_proposed):
            return ""
        return (
            f"cannot pass by votes: {self.rotation_holder} holds {self.rotation} and proposed "
            "it, and self-approval is off; to unblock, hand "
            f"{self.rotation} to someone else (a swap or a rotation override), then withdraw "
            "and propose again, or use an emergency override"
        )

    @property
    def quorum(self) -> bool:
        return not self.blocked and self.needed == 0 and not self.rotation_missing

    def summary(self) -> str:
        """The one-line requirement summary the Approvals pane and `approvals` show."""
        rejections = len(self.rejections)
        if self.blocked:
            return f"blocked: {rejections} rejections (blocks at {self.block_on_rejections})"
        parts = []
        needed = self.needed  # each property read once: a listing summarises thousands
        if needed:
            parts.append(f"needs {needed} more approval{'s' if needed > 1 else ''}")
        stuck = self.stuck
        if stuck:
            parts.append(stuck)
        elif self.rotation_missing:
            if self.rotation_holder is None:
                parts.append(f"needs the {self.rotation} holder's approval (nobody holds it now)")
            else:
                parts.append(f"needs approval from {self.rotation_holder} ({self.rotation})")
        if not parts:
            parts.append("quorum reached")
        parts.append(f"rejections {rejections} of {self.block_on_rejections} to block")
        return "; ".join(parts)


def same_change(a: Proposal, b: Proposal) -> bool:
    """Whether two proposals ask for the same change: a second one would split the votes."""
    return (a.kind, a.ref, a.revision, a.replicas) == (b.kind, b.ref, b.revision, b.replicas)


def cast(votes: tuple[Vote, ...], vote: Vote) -> tuple[Vote, ...]:
    """`votes` with `vote` added, replacing any earlier vote by the same person."""
    return (*(v for v in votes if v.voter != vote.voter), vote)


def counts(vote: Vote, proposal: Proposal, policy: Policy, now: datetime) -> bool:
    """Whether one vote still counts: young enough, on the current revision and version,
    not a self-approval."""
    if now - vote.at > policy.vote_ttl:
        return False
    if policy.dismiss_stale_votes and (
        vote.revision != proposal.revision or vote.version != proposal.version
    ):
        return False
    return not (vote.approve and vote.voter == proposal.proposer and not policy.allow_self_approval)


def tally(
    proposal: Proposal, policy: Policy, now: datetime, rotation_holder: str | None = None
) -> Tally:
    """The valid approvals and rejections of `proposal` under `policy` at `now`."""
    approvals, rejections, dismissed = [], [], []
    for vote in proposal.votes:
        if not counts(vote, proposal, policy, now):
            dismissed.append(vote.voter)
        elif vote.approve:
            approvals.append(vote.voter)
        else:
            rejections.append(vote.voter)
    return Tally(
        approvals=tuple(approvals),
        rejections=tuple(rejections),
        dismissed=tuple(dismissed),
        min_approvals=policy.min_approvals,
        block_on_rejections=policy.block_on_rejections,
        rotation=policy.require_rotation_approval,
        rotation_holder=rotation_holder,
        holder_proposed=rotation_holder == proposal.proposer and not policy.allow_self_approval,
    )


def evaluate(
    proposal: Proposal, policy: Policy, now: datetime, rotation_holder: str | None = None
) -> Proposal:
    """`proposal` with its state brought up to date: open, blocked, approved or expired.

    Only states that votes still decide move; a final state never changes here.
    """
    return judge(proposal, policy, now, rotation_holder)[0]


def judge(
    proposal: Proposal,
    policy: Policy,
    now: datetime,
    rotation_holder: str | None = None,
    known: Tally | None = None,
) -> tuple[Proposal, Tally | None]:
    """`evaluate`, and the tally it decided by: None when it needed none (a state votes
    no longer decide, or expiry). `known` is the proposal's tally at `now` when the
    caller has it already; a proposal without votes tallies the same at every instant.
    A listing derives thousands of proposals and shows each one's tally: counted once."""
    if proposal.state not in VOTABLE:
        return proposal, None
    if now - proposal.updated_at > policy.vote_ttl:
        return replace(proposal, state=State.EXPIRED), None
    result = known or tally(proposal, policy, now, rotation_holder)
    state = State.BLOCKED if result.blocked else State.APPROVED if result.quorum else State.OPEN
    # Unchanged, the same value: listings evaluate thousands of proposals twice each.
    return (proposal if proposal.state is state else replace(proposal, state=state)), result


def _votable(
    proposal: Proposal,
    policy: Policy,
    now: datetime,
    doing: str,
    rotation_holder: str | None = None,
) -> Proposal:
    """`proposal` brought up to date at `now`; refused unless votes still decide it."""
    proposal = evaluate(proposal, policy, now, rotation_holder)
    if proposal.state not in VOTABLE:
        raise PolicyRefused(f"cannot {doing} proposal {proposal.id}: it is {proposal.state}")
    return proposal


def vote(
    proposal: Proposal,
    policy: Policy,
    *,
    voter: str,
    approve: bool,
    now: datetime,
    comment: str = "",
    rotation_holder: str | None = None,
) -> Proposal:
    """`proposal` after `voter`'s vote on its current version, evaluated."""
    ballot = Vote(
        voter=voter,
        approve=approve,
        at=now,
        revision=proposal.revision,
        comment=comment,
        version=proposal.version,
    )
    return add_vote(proposal, policy, ballot, rotation_holder)


def add_vote(
    proposal: Proposal, policy: Policy, ballot: Vote, rotation_holder: str | None = None
) -> Proposal:
    """`proposal` after `ballot`, evaluated at the ballot's time; refuses votes the rules
    forbid. The ballot keeps the version and revision its voter saw, so a vote cast on
    what an amendment has since replaced is recorded and does not count."""
    proposal = _votable(proposal, policy, ballot.at, "vote on", rotation_holder)
    if ballot.version > proposal.version:
        raise PolicyRefused(
            f"proposal {proposal.id} has no version {ballot.version} (it is at {proposal.version})"
        )
    if ballot.approve and ballot.voter == proposal.proposer and not policy.allow_self_approval:
        raise PolicyRefused(
            f"{ballot.voter} proposed this change and the {policy.environment} policy "
            "does not allow self-approval"
        )
    check_text(ballot.comment, "a vote's comment (--comment)")
    voted = replace(proposal, votes=cast(proposal.votes, ballot), updated_at=ballot.at)
    return evaluate(voted, policy, ballot.at, rotation_holder)


def completes_quorum(
    proposal: Proposal,
    policy: Policy,
    *,
    voter: str,
    now: datetime,
    rotation_holder: str | None = None,
) -> bool:
    """Whether `voter`'s approval at `now` would approve `proposal`, and so run it: the
    console asks before such a vote. Raises what `vote` would refuse."""
    before = evaluate(proposal, policy, now, rotation_holder)
    after = vote(
        before, policy, voter=voter, approve=True, now=now, rotation_holder=rotation_holder
    )
    return before.state is not State.APPROVED and after.state is State.APPROVED


def amend(
    proposal: Proposal,
    policy: Policy,
    *,
    by: str,
    revision: str,
    now: datetime,
    rotation_holder: str | None = None,
) -> Proposal:
    """The proposer moves the proposal to another revision; stale votes lapse if the policy says."""
    proposal = _votable(proposal, policy, now, "amend", rotation_holder)
    if by != proposal.proposer:
        raise PolicyRefused(f"only {proposal.proposer}, who proposed it, may amend it")
    if not revision:
        raise UsageError("a revision is needed")
    check_revision(revision)
    moved = replace(proposal, revision=revision, updated_at=now, version=proposal.version + 1)
    return evaluate(moved, policy, now, rotation_holder)


def withdraw(proposal: Proposal, policy: Policy, *, by: str, now: datetime) -> Proposal:
    proposal = _votable(proposal, policy, now, "withdraw")
    if by != proposal.proposer:
        raise PolicyRefused(f"only {proposal.proposer}, who proposed it, may withdraw it")
    return replace(proposal, state=State.WITHDRAWN, updated_at=now)


_REVISION_UNSAFE = re.compile(f"[\\t{UNSAFE}]")
MAX_REVISION = 256


def check_revision(revision: str) -> None:
    """A revision reaches a backend and a deploy command's environment
    (`QUORUM_REVISION`): a newline, an escape or an invisible character in it is
    refused everywhere, before any backend sees it."""
    if _REVISION_UNSAFE.search(revision):
        raise UsageError("a revision cannot contain control or invisible characters")
    if len(revision) > MAX_REVISION:
        raise UsageError(f"a revision is at most {MAX_REVISION} characters")


def check_text(text: str, what: str, *, required: bool = False) -> None:
    """A reason or comment is read by people: it is absent, or it shows something.

    Text of only zero-width or other invisible characters would satisfy "a reason is
    mandatory" while saying nothing.
    """
    if (required or text) and not has_visible_text(text):
        raise UsageError(f"{what} must have visible text")


def override(
    proposal: Proposal, policy: Policy, *, by: str, reason: str, now: datetime
) -> Proposal:
    """An emergency bypass: approved at once, flagged, queued for review."""
    if not reason.strip():
        raise UsageError("an override needs a reason (--reason TEXT)")
    check_text(reason, "an override's reason (--reason)", required=True)
    proposal = _votable(proposal, policy, now, "override")
    return replace(
        proposal,
        state=State.APPROVED,
        override_by=by,
        override_reason=reason.strip(),
        override_at=now,
        updated_at=now,
    )


def review(proposal: Proposal, *, by: str, comment: str, now: datetime) -> Proposal:
    """Marks an override reviewed; its author may not review it."""
    if not proposal.overridden:
        raise UsageError(f"proposal {proposal.id} was not overridden; nothing to review")
    if proposal.reviewed_by:
        raise PolicyRefused(f"proposal {proposal.id} was reviewed already ({proposal.reviewed_by})")
    if by == proposal.override_by:
        raise PolicyRefused(f"{by} made this override and cannot review it; someone else must")
    check_text(comment, "a review's comment (--comment)")
    return replace(proposal, reviewed_by=by, reviewed_at=now, review_comment=comment)


def settle(proposal: Proposal, *, ok: bool, detail: str) -> Proposal:
    """An approved proposal after its execution: executed or failed."""
    if proposal.state is not State.APPROVED:
        raise PolicyRefused(f"proposal {proposal.id} is {proposal.state}, not approved")
    return replace(proposal, state=State.EXECUTED if ok else State.FAILED, detail=detail)
