"""The consensus faces: propose, vote, reject with a comment, override, review, roll back,
teammates forming a quorum, incomplete actions at start-up, all on the paused sandbox."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from console.app import QuorumApp
from console.domain.consensus import Kind
from console.domain.identity import Identity
from console.domain.model import TargetRef
from console.engine.actions import Actions
from console.store.audit import AuditLog
from console.store.claims import Claim, ClaimStore
from providers.sandbox import PAUSED_AT
from tests.app_support import move_cursor, open_by_command, sandbox_session, settle, title_of
from widgets.dialogs.modals import ConfirmScreen, FormScreen, PickScreen
from widgets.main import MainScreen
from widgets.panes.approvals import ApprovalsPane

API_PROD = "sim-k8s/api/production"


class Clock:
    def __init__(self) -> None:
        self.now = PAUSED_AT

    def __call__(self):
        return self.now


def _app(tmp_path: Path, clock: Clock, readonly: bool = False) -> QuorumApp:
    session = sandbox_session(tmp_path / "data", readonly=readonly)
    return QuorumApp(session, now=clock, poll_interval=0.5, side_interval=0.3)


def _pane(app: QuorumApp) -> ApprovalsPane:
    return app.screen_stack[0].query_one(ApprovalsPane)


async def _select(pilot, app: QuorumApp, key: str) -> None:
    await settle(pilot, lambda: key in app.services.table.keys)
    move_cursor(app.services.table, key)
    await settle(pilot, lambda: app.selected is not None and app.selected.key == key)


def _as(app: QuorumApp, name: str, clock: Clock) -> Actions:
    """Another team member's view of the same database (as a second console would be)."""
    return Actions(app.session, identity=Identity(name, "root", via_seam=True), clock=clock)


async def test_propose_then_teammates_reach_quorum_and_it_deploys(tmp_path: Path) -> None:
    clock = Clock()
    app = _app(tmp_path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, API_PROD)
        before = app.selected.target.revision
        await open_by_command(pilot, "apr", lambda: _pane(app))
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, PickScreen))
        options = [key for key, _ in app.screen.options]
        assert options[0] == before  # newest first, the live one marked current
        await pilot.press("down", "enter")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press(*"hotfix", "enter")
        await settle(pilot, lambda: len(_pane(app).items) == 1)
        item = next(iter(_pane(app).items.values()))
        assert item.state == "open"
        assert item.summary == "needs 2 more approvals; rejections 0 of 2 to block"
        revision = options[1]
        assert item.what == f"deploy api@production to {revision}"
        # The proposer may not approve their own change: refused in one line.
        await pilot.press("a")
        await settle(pilot, lambda: any("self-approval" in m for m in app.notices))
        # Alice votes 4 s after the proposal, bob 8 s after: quorum, then it runs.
        clock.now = PAUSED_AT + timedelta(seconds=5)
        await settle(pilot, lambda: _pane(app).selected.votes != ())
        assert [v.voter for v in _pane(app).selected.votes] == ["alice"]
        assert _pane(app).selected.summary.startswith("needs 1 more approval")
        clock.now = PAUSED_AT + timedelta(seconds=9)
        await settle(pilot, lambda: _pane(app).selected.state == "executed")
        votes = _pane(app).selected.votes
        assert [(v.voter, v.approve) for v in votes] == [("alice", True), ("bob", True)]
        await settle(pilot, lambda: app.services.table.cells(API_PROD)[3] == revision)
        actions = [(r.who, r.action, r.outcome) for r in AuditLog(app.session.audit_path).tail()]
        assert ("alice", "vote") in [a[:2] for a in actions]
        assert ("bob", "vote") in [a[:2] for a in actions]
        assert any(a[1] == "deploy" and a[2] == "finished" for a in actions)
        assert AuditLog(app.session.audit_path).verify().ok


async def test_reject_asks_for_a_comment_and_approve_counts(tmp_path: Path) -> None:
    clock = Clock()
    app = _app(tmp_path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, API_PROD)
        ref = app.selected.target.ref
        alice = _as(app, "alice", clock)
        first = await alice.propose(Kind.DEPLOY, ref, revision="v9.9.9", reason="new build")
        second = await alice.propose(Kind.DEPLOY, ref, revision="v9.9.8", reason="other")
        alice.close()
        await settle(pilot, lambda: len(_pane(app).items) == 2)
        await open_by_command(pilot, "apr", lambda: _pane(app))
        move_cursor(_pane(app).table, f"proposal-{first.proposal.id}")
        await pilot.press("x")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press("enter")  # an empty comment is refused
        assert isinstance(app.screen, FormScreen)
        await pilot.press(*"breaks checkout", "enter")
        key = f"proposal-{first.proposal.id}"
        await settle(pilot, lambda: _pane(app).items[key].votes != ())
        vote = _pane(app).items[key].votes[0]
        assert (vote.approve, vote.comment) == (False, "breaks checkout")
        assert "rejections 1 of 2 to block" in _pane(app).items[key].summary
        move_cursor(_pane(app).table, f"proposal-{second.proposal.id}")
        await pilot.press("a")  # an approval offers a comment too; none is needed
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        assert app.screen.note == ""  # one approval of two: nothing runs yet
        await pilot.press(*"looks good", "enter")
        key2 = f"proposal-{second.proposal.id}"
        await settle(pilot, lambda: _pane(app).items[key2].votes != ())
        assert _pane(app).items[key2].summary.startswith("needs 1 more approval")
        assert _pane(app).items[key2].votes[0].comment == "looks good"
        detail = str(_pane(app).query_one("#approval-detail").render())
        assert "approve" in detail and app.identity.name in detail


async def test_override_needs_a_reason_and_the_name_then_review(tmp_path: Path) -> None:
    clock = Clock()
    app = _app(tmp_path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, API_PROD)
        ref = app.selected.target.ref
        alice = _as(app, "alice", clock)
        mine = await alice.propose(Kind.DEPLOY, ref, revision="v9.9.9", reason="fix")
        await settle(pilot, lambda: len(_pane(app).items) == 1)
        await open_by_command(pilot, "apr", lambda: _pane(app))
        await pilot.press("o")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press(*"site down, paging", "enter")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press(*"web", "enter")  # the wrong name does nothing
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press(*("backspace",) * 3, *"api", "enter")
        key = f"proposal-{mine.proposal.id}"
        # The override is recorded, then it runs: wait for both.
        await settle(pilot, lambda: _pane(app).items[key].state == "executed")
        assert _pane(app).items[key].awaiting_review
        assert any("override by" in note for note in _pane(app).items[key].notes)
        # The overrider cannot review their own override: refused at once, no comment
        # asked for; alice can.
        await pilot.press("R")
        await settle(pilot, lambda: any("cannot review it" in m for m in app.notices))
        assert isinstance(app.screen, MainScreen)
        await alice.review(mine.proposal.id, "checked the dashboards")
        alice.close()
        await settle(pilot, lambda: not _pane(app).items[key].awaiting_review)


async def test_review_of_someone_elses_override(tmp_path: Path) -> None:
    clock = Clock()
    app = _app(tmp_path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, API_PROD)
        ref = app.selected.target.ref
        alice = _as(app, "alice", clock)
        made = await alice.propose(Kind.DEPLOY, ref, revision="v9.9.7", reason="fix")
        await alice.override(made.proposal.id, "outage")
        alice.close()
        key = f"proposal-{made.proposal.id}"
        await settle(
            pilot, lambda: key in _pane(app).items and _pane(app).items[key].awaiting_review
        )
        assert "1 emergency override to review" in title_of(_pane(app))
        await open_by_command(pilot, "apr", lambda: _pane(app))
        await pilot.press("R")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press(*"looked fine", "enter")
        await settle(pilot, lambda: not _pane(app).items[key].awaiting_review)
        records = AuditLog(app.session.audit_path).tail()
        assert any(r.action == "review" and r.who == app.identity.name for r in records)


async def test_ctrl_l_rolls_back_production_after_typing_its_name(tmp_path: Path) -> None:
    clock = Clock()
    app = _app(tmp_path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, API_PROD)
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: isinstance(app.screen, PickScreen))
        target_revision = app.screen.options[1][0]
        await pilot.press("down", "enter")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert app.screen.expect == "api"
        await pilot.press("y")  # y is a letter of the name here, not a yes
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("backspace", *"api", "enter")
        await settle(
            pilot,
            lambda: any(
                r.action == "rollback" and r.outcome == "finished"
                for r in AuditLog(app.session.audit_path).tail()
            ),
        )
        record = next(r for r in AuditLog(app.session.audit_path).tail() if r.action == "rollback")
        assert record.revision == target_revision and record.target == API_PROD


async def test_staging_rollback_asks_yes_or_no(tmp_path: Path) -> None:
    clock = Clock()
    app = _app(tmp_path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, "sim-k8s/api/staging")
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: isinstance(app.screen, PickScreen))
        await pilot.press("down", "enter")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert app.screen.expect is None
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, MainScreen))
        assert not [r for r in AuditLog(app.session.audit_path).tail() if r.action == "rollback"]


async def test_readonly_refuses_every_consensus_key(tmp_path: Path) -> None:
    clock = Clock()
    app = _app(tmp_path, clock, readonly=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, API_PROD)
        await pilot.press("ctrl+l")
        assert isinstance(app.screen, MainScreen)
        await open_by_command(pilot, "apr", lambda: _pane(app))
        for key in ("n", "a", "x", "o", "R"):
            await pilot.press(key)
            assert isinstance(app.screen, MainScreen)
        messages = [m for m in app.notices if "read-only" in m]
        assert len(messages) == 6
        assert "read-only console: rollback is disabled" in messages[0]


async def test_incomplete_actions_are_shown_at_start_and_resolved(tmp_path: Path) -> None:
    session = sandbox_session(tmp_path / "data")
    store = ClaimStore(session.audit_path)
    store.claim(
        Claim(
            key="deploy-crashed",
            action="deploy",
            who="alice",
            ref=TargetRef("sim-k8s", "api", "production", "deployment/api"),
            revision="v9.0.0",
            proposal_id=None,
            started_at=PAUSED_AT - timedelta(minutes=3),
        )
    )
    store.close()
    app = QuorumApp(session, now=Clock(), poll_interval=0.5)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, PickScreen))
        assert app.screen.options[0][0] == "deploy-crashed"
        assert "v9.0.0" in app.screen.options[0][1]
        await pilot.press("enter")
        await settle(pilot, lambda: app.screen.options[0][0] == "finished")
        await pilot.press("down", "enter")  # failed
        await settle(pilot, lambda: not app.actions.incomplete())
        records = AuditLog(session.audit_path).tail()
        assert any(r.key == "deploy-crashed" and r.outcome == "failed" for r in records)


async def test_a_vote_is_bound_to_the_version_the_pane_showed(tmp_path: Path) -> None:
    """The proposer amends between the moment the pane showed the proposal and the `a`:
    the vote is refused instead of approving a revision nobody here read."""
    clock = Clock()
    app = _app(tmp_path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, API_PROD)
        ref = app.selected.target.ref
        alice = _as(app, "alice", clock)
        made = await alice.propose(Kind.DEPLOY, ref, revision="v9.9.9", reason="new build")
        key = f"proposal-{made.proposal.id}"
        await settle(pilot, lambda: key in _pane(app).items)
        shown = _pane(app).items[key].version
        await alice.amend(made.proposal.id, "v9.9.6")
        alice.close()
        app.post_message(ApprovalsPane.VoteRequested(made.proposal.id, True, shown))
        await settle(pilot, lambda: any("amended" in m or "version" in m for m in app.notices))
        await settle(pilot, lambda: _pane(app).items[key].what.endswith("v9.9.6"))
        assert _pane(app).items[key].votes == ()
