"""Property tests of the consensus rules over generated vote sequences."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain import consensus as c
from console.domain.errors import PolicyRefused
from console.domain.model import TargetRef
from console.domain.settings import Policy

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PEOPLE = ("pat", "alice", "bob", "carol", "dan", "erin")
PROPOSER = "pat"


def fresh(revision: str = "v2") -> c.Proposal:
    return c.Proposal(
        id=1,
        kind=c.Kind.DEPLOY,
        ref=TargetRef("k8s", "api", "production", "deployment/api"),
        revision=revision,
        proposer=PROPOSER,
        reason="",
        created_at=T0,
        updated_at=T0,
    )


policies = st.builds(
    Policy,
    environment=st.just("production"),
    min_approvals=st.integers(0, 4),
    allow_self_approval=st.booleans(),
    block_on_rejections=st.integers(1, 3),
    vote_ttl=st.sampled_from([timedelta(minutes=10), timedelta(hours=1), timedelta(days=1)]),
    dismiss_stale_votes=st.booleans(),
)

# An event: ("vote", voter, approve, minutes later) or ("amend", revision, minutes later).
votes_ev = st.tuples(st.just("vote"), st.sampled_from(PEOPLE), st.booleans(), st.integers(0, 90))
amend_ev = st.tuples(st.just("amend"), st.sampled_from(["v2", "v3", "v4"]), st.integers(0, 90))
gated = policies.filter(lambda p: p.min_approvals > 0)
events = st.lists(st.one_of(votes_ev, votes_ev, votes_ev, amend_ev), max_size=25)


def run(policy: Policy, script: list[tuple]) -> list[tuple[c.Proposal, datetime]]:
    """Every state the proposal passes through, with the instant it was reached."""
    p, now, seen = fresh(), T0, []
    for event in script:
        now = now + timedelta(minutes=event[-1])
        try:
            if event[0] == "vote":
                p = c.vote(p, policy, voter=event[1], approve=event[2], now=now)
            else:
                p = c.amend(p, policy, by=PROPOSER, revision=event[1], now=now)
        except PolicyRefused:
            p = c.evaluate(p, policy, now)
        seen.append((p, now))
        if p.state not in c.VOTABLE:
            break
    return seen


def valid_approvers(p: c.Proposal, policy: Policy, now: datetime) -> set[str]:
    """An independent reading of the rules: the latest vote per person, filtered."""
    latest: dict[str, c.Vote] = {}
    for v in p.votes:
        latest[v.voter] = v
    return {
        v.voter
        for v in latest.values()
        if v.approve
        and now - v.at <= policy.vote_ttl
        and (not policy.dismiss_stale_votes or v.revision == p.revision)
        and (policy.allow_self_approval or v.voter != p.proposer)
    }


@settings(max_examples=400, deadline=None)
@given(policies, events)
def test_never_approved_without_enough_valid_approvals(policy: Policy, script: list) -> None:
    for p, now in run(policy, script):
        if p.state is c.State.APPROVED:
            assert not p.overridden
            assert len(valid_approvers(p, policy, now)) >= policy.min_approvals
        if len(valid_approvers(p, policy, now)) < policy.min_approvals:
            assert p.state is not c.State.APPROVED


@settings(max_examples=300, deadline=None)
@given(policies, events, st.sampled_from(PEOPLE[1:]))
def test_one_rejection_never_blocks_at_the_default(policy: Policy, script: list, rejector: str):
    policy = Policy(**{**policy.__dict__, "block_on_rejections": 2})
    # Only `rejector` ever rejects; everyone else approves.
    one_veto = [(e[0], e[1], e[1] != rejector, e[3]) if e[0] == "vote" else e for e in script]
    one_veto.insert(0, ("vote", rejector, False, 0))
    for p, _ in run(policy, one_veto):
        assert p.state is not c.State.BLOCKED


@settings(max_examples=200, deadline=None)
@given(gated, st.lists(st.sampled_from(PEOPLE[1:]), min_size=2, max_size=5, unique=True))
def test_enough_rejections_block(policy: Policy, rejectors: list[str]) -> None:
    p = fresh()
    for r in rejectors:
        if p.state not in c.VOTABLE:
            break
        p = c.vote(p, policy, voter=r, approve=False, now=T0)
    rejected = len(c.tally(p, policy, T0).rejections)
    assert (p.state is c.State.BLOCKED) == (rejected >= policy.block_on_rejections)


@given(gated)
def test_self_approval_refused_when_disallowed(policy: Policy) -> None:
    if policy.allow_self_approval:
        p = c.vote(fresh(), policy, voter=PROPOSER, approve=True, now=T0)
        assert PROPOSER in c.tally(p, policy, T0).approvals
    else:
        with pytest.raises(PolicyRefused, match="self-approval"):
            c.vote(fresh(), policy, voter=PROPOSER, approve=True, now=T0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=10), st.integers(2, 5))
def test_repeated_votes_count_once_and_the_last_one_wins(choices: list[bool], need: int) -> None:
    policy = Policy("production", min_approvals=need, block_on_rejections=1)
    p = fresh()
    for i, approve in enumerate(choices):
        if p.state not in c.VOTABLE:
            p = c.evaluate(p, policy, T0)  # blocked reopens only through another vote
        p = c.vote(p, policy, voter="alice", approve=approve, now=T0 + timedelta(seconds=i))
    t = c.tally(p, policy, T0 + timedelta(seconds=len(choices)))
    assert len(p.votes) == 1
    assert (t.approvals, t.rejections) == ((("alice",), ()) if choices[-1] else ((), ("alice",)))
    # A blocking rejection changed into an approval reopens the proposal.
    assert p.state is (c.State.OPEN if choices[-1] else c.State.BLOCKED)


@given(st.booleans(), st.lists(st.sampled_from(PEOPLE[1:]), min_size=1, unique=True))
def test_stale_votes_dismissed_on_revision_change(dismiss: bool, voters: list[str]) -> None:
    policy = Policy("production", min_approvals=9, dismiss_stale_votes=dismiss)
    p = fresh("v2")
    for v in voters:
        p = c.vote(p, policy, voter=v, approve=True, now=T0)
    p = c.amend(p, policy, by=PROPOSER, revision="v3", now=T0)
    t = c.tally(p, policy, T0)
    if dismiss:
        assert t.approvals == () and set(t.dismissed) == set(voters)
    else:
        assert set(t.approvals) == set(voters)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 120), st.integers(0, 240))
def test_expired_votes_not_counted(ttl_minutes: int, age_minutes: int) -> None:
    ttl = timedelta(minutes=ttl_minutes)
    policy = Policy("production", min_approvals=1, vote_ttl=ttl)
    p = c.vote(fresh(), policy, voter="alice", approve=True, now=T0)
    later = T0 + timedelta(minutes=age_minutes)
    counted = "alice" in c.tally(p, policy, later).approvals
    assert counted == (later - T0 <= ttl)


def test_an_idle_proposal_expires_and_refuses_votes() -> None:
    policy = Policy("production", min_approvals=2, vote_ttl=timedelta(hours=1))
    p = c.vote(fresh(), policy, voter="alice", approve=True, now=T0)
    late = T0 + timedelta(hours=1, seconds=1)
    assert c.evaluate(p, policy, late).state is c.State.EXPIRED
    with pytest.raises(PolicyRefused, match="expired"):
        c.vote(p, policy, voter="bob", approve=True, now=late)


def test_rotation_holder_must_approve() -> None:
    policy = Policy("production", min_approvals=1, require_rotation_approval="on-call")
    p = c.vote(fresh(), policy, voter="alice", approve=True, now=T0, rotation_holder="bob")
    assert p.state is c.State.OPEN
    assert "needs approval from bob (on-call)" in c.tally(p, policy, T0, "bob").summary()
    p = c.vote(p, policy, voter="bob", approve=True, now=T0, rotation_holder="bob")
    assert p.state is c.State.APPROVED
    nobody = c.tally(p, policy, T0, None)
    assert nobody.rotation_missing and "nobody holds it now" in nobody.summary()


def test_a_holder_who_proposed_cannot_approve_and_the_summary_says_what_unblocks() -> None:
    policy = Policy("production", min_approvals=1, require_rotation_approval="on-call")
    mine = replace(fresh(), proposer="bob")
    p = c.vote(mine, policy, voter="alice", approve=True, now=T0, rotation_holder="bob")
    stuck = c.tally(p, policy, T0, "bob")
    assert p.state is c.State.OPEN and stuck.needed == 0
    assert stuck.stuck.startswith("cannot pass by votes: bob holds on-call and proposed it")
    assert "swap" in stuck.summary() and "emergency override" in stuck.summary()
    # Someone else holding it, or self-approval allowed: votes can still pass it.
    assert c.tally(p, policy, T0, "carol").stuck == ""
    allowed = replace(policy, allow_self_approval=True)
    assert c.tally(p, allowed, T0, "bob").stuck == ""
    p = c.vote(p, allowed, voter="bob", approve=True, now=T0, rotation_holder="bob")
    assert p.state is c.State.APPROVED


def test_summary_line() -> None:
    policy = Policy("production", min_approvals=2)
    p = c.vote(fresh(), policy, voter="alice", approve=True, now=T0)
    p = c.vote(p, policy, voter="carol", approve=False, now=T0)
    assert c.tally(p, policy, T0).summary() == ("needs 1 more approval; rejections 1 of 2 to block")


def test_override_needs_a_reason_and_review_by_someone_else() -> None:
    from console.domain.errors import UsageError

    policy = Policy("production", min_approvals=2)
    with pytest.raises(UsageError, match="reason"):
        c.override(fresh(), policy, by="alice", reason="  ", now=T0)
    p = c.override(fresh(), policy, by="alice", reason="outage", now=T0)
    assert p.state is c.State.APPROVED and p.awaiting_review
    with pytest.raises(PolicyRefused, match="cannot review"):
        c.review(p, by="alice", comment="", now=T0)
    done = c.review(p, by="bob", comment="fine", now=T0)
    assert done.reviewed_by == "bob" and not done.awaiting_review


@pytest.mark.parametrize(
    ("tally", "summary"),
    [
        (c.Tally(("a",), ("b", "c"), (), 2, 2), "blocked: 2 rejections (blocks at 2)"),
        (c.Tally((), (), (), 2, 2), "needs 2 more approvals; rejections 0 of 2 to block"),
        (c.Tally(("a",), ("b",), (), 2, 2), "needs 1 more approval; rejections 1 of 2 to block"),
        (c.Tally(("a", "b"), (), (), 2, 2), "quorum reached; rejections 0 of 2 to block"),
        (
            c.Tally(("a", "b"), (), (), 2, 3, "on-call", None),
            "needs the on-call holder's approval (nobody holds it now); rejections 0 of 3 to block",
        ),
        (
            c.Tally(("a",), (), (), 2, 2, "on-call", "dave"),
            "needs 1 more approval; needs approval from dave (on-call); rejections 0 of 2 to block",
        ),
        (
            c.Tally(("a", "b"), (), (), 2, 2, "on-call", "dave", holder_proposed=True),
            "cannot pass by votes: dave holds on-call and proposed it, and self-approval is off; "
            "to unblock, hand on-call to someone else (a swap or a rotation override), then "
            "withdraw and propose again, or use an emergency override; rejections 0 of 2 to block",
        ),
    ],
)
def test_the_summary_says_what_is_still_needed(tally: c.Tally, summary: str) -> None:
    assert tally.summary() == summary
