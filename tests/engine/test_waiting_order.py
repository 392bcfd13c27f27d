"""The order in which what waits for people is shown (console.engine.waiting): what a
person still has to vote on or review first, newest first, then what settled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.domain.consensus import Kind, Proposal, State, Tally
from console.domain.model import ProviderApproval, TargetRef
from console.domain.settings import Policy
from console.engine.actions import ProposalView
from console.engine.waiting import people_first, waits_for_someone

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REF = TargetRef("k8s", "api", "production", "deployment/api")


def _view(pid: int, minutes: int, state: State, **changes: object) -> ProposalView:
    at = T0 + timedelta(minutes=minutes)
    proposal = Proposal(pid, Kind.DEPLOY, REF, f"v{pid}", "dana", "", at, at, state, **changes)
    tally = Tally((), (), (), 2, 2)
    return ProposalView(proposal, tally, Policy("production", min_approvals=2))


def _held(ref: str, minutes: int | None) -> ProviderApproval:
    at = None if minutes is None else T0 + timedelta(minutes=minutes)
    return ProviderApproval("gh", f"gh:{ref}", f"deploy {ref}", "production", requested_at=at)


def _ids(items: list) -> list[object]:
    return [i.id for i in items]


def test_waiting_newest_first_then_settled_newest_first() -> None:
    executed = _view(1, 0, State.EXECUTED)
    oldest_open = _view(2, 1, State.OPEN)
    withdrawn = _view(3, 2, State.WITHDRAWN)
    blocked = _view(4, 3, State.BLOCKED)
    running = _view(5, 4, State.APPROVED)  # on its way to running: not settled yet
    failed = _view(6, 5, State.FAILED)
    items = [executed, oldest_open, withdrawn, blocked, running, failed]
    assert _ids(people_first(items)) == [5, 4, 2, 6, 3, 1]


def test_an_override_awaiting_review_waits_though_it_ran() -> None:
    overridden = _view(1, 0, State.EXECUTED, override_by="alice", override_reason="down")
    reviewed = _view(2, 1, State.EXECUTED, override_by="alice", reviewed_by="bob")
    assert waits_for_someone(overridden) and not waits_for_someone(reviewed)
    assert _ids(people_first([reviewed, overridden])) == [1, 2]


def test_a_providers_own_approvals_wait_among_the_proposals_by_their_time() -> None:
    early, late = _view(1, 0, State.OPEN), _view(2, 10, State.OPEN)
    done = _view(3, 20, State.EXECUTED)
    held = [_held("run-7", 5), _held("run-9", None)]  # no time known: last of the waiting
    assert _ids(people_first([early, late, done, *held])) == [2, "gh:run-7", 1, "gh:run-9", 3]
