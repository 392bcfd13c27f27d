"""A proposal's state derived from signed acts only: forged, foreign and stale acts never count."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from console.domain import consensus as rules
from console.domain.acts import (
    AmendAct,
    Content,
    OverrideAct,
    ProposalAct,
    VoteAct,
    WithdrawAct,
)
from console.domain.consensus import VOTABLE, Kind, State
from console.domain.derive import Facts, Signed, derive
from console.domain.model import TargetRef
from console.domain.settings import Policy
from tests.signing_support import SoftKeys

MEMBERS = ("alice", "bob", "carol", "dave", "erin")
KEYS = SoftKeys((*MEMBERS, "mallory"))
ALLOWED = KEYS.allowed(MEMBERS)
POLICY = Policy("production", min_approvals=2, block_on_rejections=2, vote_ttl=timedelta(hours=24))
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
REF = TargetRef("main", "web", "production", "deployment/web")
BASE = Content(7, 1, Kind.DEPLOY, REF, "v1", None)


def proposal_act(at: datetime = T0) -> Signed[ProposalAct]:
    act = ProposalAct(BASE, "alice", "ship it", at)
    return Signed(act, KEYS.sign("alice", act.message()))


def vote(voter: str, approve: bool, hours: float, version: int = 1, *, signer: str = "") -> Signed:
    act = VoteAct(7, version, voter, approve, T0 + timedelta(hours=hours))
    seen = replace(BASE, version=version, revision="v1" if version == 1 else f"v{version}")
    return Signed(act, KEYS.sign(signer or voter, act.message(seen)))


def amend(version: int, hours: float) -> Signed:
    act = AmendAct(7, version, f"v{version}", "alice", T0 + timedelta(hours=hours))
    return Signed(act, KEYS.sign("alice", act.message()))


def state(*acts: Signed, hours: float = 1, allowed=ALLOWED, members=MEMBERS):
    votes = tuple(a for a in acts if isinstance(a.act, VoteAct))
    amendments = tuple(a for a in acts if isinstance(a.act, AmendAct))
    return derive(
        Facts(proposal_act(), amendments, votes),
        POLICY,
        T0 + timedelta(hours=hours),
        verify=allowed.valid,
        members=frozenset(members),
    )


def test_two_signed_approvals_approve() -> None:
    derived = state(vote("bob", True, 0.1), vote("carol", True, 0.2))
    assert derived.proposal.state is State.APPROVED
    assert derived.ignored == ()


def test_a_vote_signed_with_another_members_key_does_not_count() -> None:
    forged = vote("carol", True, 0.2, signer="bob")
    derived = state(vote("bob", True, 0.1), forged)
    assert derived.proposal.state is State.OPEN
    assert derived.ignored == ((forged, "the signature is not carol's over this content"),)


def test_an_outsiders_own_signature_does_not_make_a_vote() -> None:
    derived = state(vote("bob", True, 0.1), vote("mallory", True, 0.2))
    assert derived.proposal.state is State.OPEN
    assert derived.ignored[0][1] == "mallory is not a member of the team"


def test_a_removed_member_stops_counting() -> None:
    acts = (vote("bob", True, 0.1), vote("carol", True, 0.2))
    assert state(*acts).proposal.state is State.APPROVED
    without_carol = KEYS.allowed(("alice", "bob", "dave", "erin"))
    assert state(*acts, allowed=without_carol).proposal.state is State.OPEN
    assert state(*acts, members=("alice", "bob", "dave", "erin")).proposal.state is State.OPEN


def test_a_vote_signed_before_an_amendment_never_counts_after_it() -> None:
    """The voter read version 1; the proposer amended; the vote arrives signed over v1."""
    derived = state(vote("bob", True, 0.1, version=2), amend(2, 0.2), vote("carol", True, 0.3))
    assert derived.proposal.state is State.OPEN
    assert derived.proposal.revision == "v2"
    late = state(amend(2, 0.1), vote("bob", True, 0.2, version=1), vote("carol", True, 0.3))
    assert late.proposal.state is State.OPEN  # bob's vote is on v1 only
    both = state(amend(2, 0.1), vote("bob", True, 0.2, 2), vote("carol", True, 0.3, 2))
    assert both.proposal.state is State.APPROVED


def test_a_lapsed_rejection_unblocks_the_approvals_cast_while_blocked() -> None:
    """Stored, this proposal stayed `blocked` forever; derived, it is approved once a
    rejection is older than vote_ttl."""
    acts = (
        vote("bob", False, 0),
        vote("carol", False, 2),
        vote("dave", True, 20),
        vote("erin", True, 21),
    )
    assert state(*acts, hours=22).proposal.state is State.BLOCKED
    assert state(*acts, hours=24.5).proposal.state is State.APPROVED


def test_the_stored_state_plays_no_part() -> None:
    """Facts carry no state at all: an approved row in the table cannot reach `derive`."""
    assert "state" not in Facts.__dataclass_fields__
    assert state(vote("bob", True, 0.1)).proposal.state is State.OPEN


# -- property: forged acts change nothing ------------------------------------------------

AUTHORS = (*MEMBERS, "mallory")
FORGERIES = ("genuine", "genuine", "genuine", "other-key", "other-content", "unsigned")


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Signed], list[Signed]]:
    """Acts in time order, and the subset that a verifier must accept."""
    every: list[Signed] = []
    genuine: list[Signed] = []
    versions = {1: BASE}
    at = T0
    for _ in range(draw(st.integers(0, 12))):
        at += timedelta(hours=draw(st.sampled_from([0.1, 1, 5, 20])))
        kind = draw(st.sampled_from(["vote", "vote", "vote", "amend", "override", "withdraw"]))
        author = draw(st.sampled_from(AUTHORS))
        how = draw(st.sampled_from(FORGERIES))
        version = draw(st.sampled_from(sorted(versions)))
        if kind == "amend":
            new = max(versions) + 1
            act = AmendAct(7, new, f"v{new}", author, at)
            message, wrong = act.message(), replace(act, revision="evil").message()
        elif kind == "vote":
            act = VoteAct(7, version, author, draw(st.booleans()), at)
            message = act.message(versions[version])
            wrong = act.message(replace(versions[version], revision="evil"))
        elif kind == "override":
            act = OverrideAct(7, version, author, "pager says so", at)
            message = act.message(versions[version])
            wrong = act.message(replace(versions[version], revision="evil"))
        else:
            act = WithdrawAct(7, version, author, at)
            message = act.message(versions[version])
            wrong = act.message(replace(versions[version], replicas=9))
        if how == "genuine":
            signed = Signed(act, KEYS.sign(author, message))
        elif how == "other-key":
            other = draw(st.sampled_from([a for a in AUTHORS if a != author]))
            signed = Signed(act, KEYS.sign(other, message))
        elif how == "other-content":
            signed = Signed(act, KEYS.sign(author, wrong))
        else:
            signed = Signed(act, "")
        every.append(signed)
        if how == "genuine" and author in MEMBERS:
            genuine.append(signed)
            if isinstance(act, AmendAct):
                versions[act.version] = replace(BASE, version=act.version, revision=act.revision)
    return every, genuine


def _facts(acts: list[Signed]) -> Facts:
    def of(kind: type) -> tuple[Signed, ...]:
        return tuple(a for a in acts if isinstance(a.act, kind))

    return Facts(
        proposal_act(),
        amendments=of(AmendAct),
        votes=of(VoteAct),
        overrides=of(OverrideAct),
        withdrawals=of(WithdrawAct),
    )


@settings(max_examples=150, deadline=None)
@given(histories(), st.sampled_from([1, 30, 80]))
def test_derived_state_is_the_rules_over_the_verified_acts_alone(
    history: tuple[list[Signed], list[Signed]], hours: int
) -> None:
    every, genuine = history
    now = T0 + timedelta(hours=hours) + max((a.act.at - T0 for a in every), default=timedelta(0))
    members = frozenset(MEMBERS)
    signed = derive(_facts(every), POLICY, now, verify=ALLOWED.valid, members=members)
    trusted = derive(_facts(genuine), POLICY, now, verify=None, members=None)
    assert signed.proposal == trusted.proposal
    counted = set(map(id, signed.counted))
    assert not any(id(a) in counted for a in every if a not in genuine)


def test_an_act_dated_in_the_future_does_not_count() -> None:
    late = vote("carol", True, 30)  # signed as if cast 30 h from now
    early = state(vote("bob", True, 0.1), late, hours=1)
    assert early.proposal.state is State.OPEN
    assert early.ignored[0][1].endswith("in the future")


@settings(max_examples=150, deadline=None)
@given(histories(), st.sampled_from([0, 1, 30, 80]))
def test_the_tally_a_derivation_keeps_is_the_rules_tally_at_its_instant(
    history: tuple[list[Signed], list[Signed]], hours: int
) -> None:
    """The derivation tallies once and hands that tally to the views: it must be what
    tallying the derived proposal afresh at the same instant gives."""
    every, _ = history
    now = T0 + timedelta(hours=hours) + max((a.act.at - T0 for a in every), default=timedelta(0))
    derived = derive(_facts(every), POLICY, now, verify=ALLOWED.valid, members=frozenset(MEMBERS))
    if derived.proposal.state in VOTABLE:
        assert derived.tally is not None
    if derived.tally is not None:
        assert derived.tally == rules.tally(derived.proposal, POLICY, now)
