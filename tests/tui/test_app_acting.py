"""Acting safely from the console: what a rollback offers, a revision typed for a
proposal, and dialogs that keep their input when something is wrong."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from console.app import QuorumApp
from console.domain.consensus import Kind
from console.domain.identity import Identity
from console.domain.model import Revision, TargetRef
from console.engine.actions import Actions
from console.engine.session import Session
from console.engine.targets import resolve_target
from console.store.audit import AuditLog
from providers.sandbox import PAUSED_AT
from tests.app_support import (
    FakeProvider,
    make_session,
    move_cursor,
    open_by_command,
    sandbox_session,
    settle,
    standard_targets,
)
from widgets.dialogs.modals import ConfirmScreen, FormScreen, PickScreen
from widgets.main import MainScreen
from widgets.panes.approvals import ApprovalsPane

API_PROD = "sim-k8s/api/production"


class Clock:
    def __init__(self) -> None:
        self.now = PAUSED_AT

    def __call__(self):
        return self.now


def _app(tmp_path: Path, clock: Clock | None = None) -> QuorumApp:
    session = sandbox_session(tmp_path / "data")
    return QuorumApp(session, now=clock or Clock(), poll_interval=0.5, side_interval=0.3)


def _pane(app: QuorumApp) -> ApprovalsPane:
    return app.screen_stack[0].query_one(ApprovalsPane)


async def _select(pilot, app: QuorumApp, key: str) -> None:
    await settle(pilot, lambda: key in app.services.table.keys)
    move_cursor(app.services.table, key)
    await settle(pilot, lambda: app.selected is not None and app.selected.key == key)


async def _ref(session: Session, service: str) -> TargetRef:
    return (await resolve_target(session, service, "production")).ref


def _error_of(screen) -> str:
    return str(screen.query_one("#form-error").render())


# ---- ctrl+l: never back to the revision that runs ---------------------------------


async def test_rollback_offers_earlier_revisions_the_previous_first(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, API_PROD)
        current = app.selected.target.revision
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: isinstance(app.screen, PickScreen))
        offered = [key for key, _ in app.screen.options]
        assert current not in offered and offered
        assert current in app.screen.pick_title
        previous = offered[0]
        await pilot.press("enter")  # the default: the revision before the running one
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert f"from {current} to {previous}" in app.screen.question
        await pilot.press(*"api", "enter")
        await settle(
            pilot,
            lambda: any(
                r.action == "rollback" and r.outcome == "finished"
                for r in AuditLog(app.session.audit_path).tail()
            ),
        )
        record = next(r for r in AuditLog(app.session.audit_path).tail() if r.action == "rollback")
        assert record.revision == previous


class OneRevision(FakeProvider):
    """A target whose history holds only the revision it runs."""

    async def revisions(self, target: TargetRef) -> list[Revision]:
        current = next(t.revision for t in self.targets if t.ref == target)
        return [Revision(current, current=True)]


async def test_rollback_with_no_earlier_revision_says_so_without_a_dialog(tmp_path: Path) -> None:
    provider = OneRevision("alpha", standard_targets(), tmp_path)
    app = QuorumApp(make_session(tmp_path / "data", [provider]), poll_interval=0.5)
    async with app.run_test(size=(120, 40)) as pilot:
        key = "alpha/api/staging"
        await _select(pilot, app, key)
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: any("no revision before" in m for m in app.notices))
        assert isinstance(app.screen, MainScreen)
        assert not [r for r in AuditLog(app.session.audit_path).tail() if r.action == "rollback"]


# ---- n: a revision typed by hand, checked by the provider --------------------------


async def test_propose_a_typed_revision_checked_before_the_form_closes(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, API_PROD)
        await open_by_command(pilot, "apr", lambda: _pane(app))
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, PickScreen))
        assert app.screen.options[-1][1].startswith("another revision")
        await pilot.press("end", "enter")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        await pilot.press(*"v3 beta!", "enter", *"new build", "enter")
        await settle(pilot, lambda: "is not a tag" in _error_of(form))
        assert app.screen is form  # the provider refused it: the form stays, input kept
        assert form.query_one("#f-revision").value == "v3 beta!"
        assert form.query_one("#f-reason").value == "new build"
        form.query_one("#f-revision").value = "v3.0.0-rc1"
        form.query_one("#f-reason").focus()
        await pilot.press("enter")
        await settle(pilot, lambda: len(_pane(app).items) == 1)
        item = next(iter(_pane(app).items.values()))
        assert item.what == "deploy api@production to v3.0.0-rc1"
        assert isinstance(app.screen, MainScreen)


async def test_a_direct_change_that_failed_is_said_as_a_failure(tmp_path: Path) -> None:
    """A scale the provider refuses ran and failed: the toast is an error titled so, and
    never opens with the change as if it were done ("scaled api@dev to 99: ...")."""
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, "sim-k8s/api/dev")
        await pilot.press("s")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        app.screen.query_one("#f-replicas").value = "99"  # the sandbox scales up to 50
        await pilot.press("enter")
        await settle(pilot, lambda: any("scale failed" in n.title for n in app._notifications))
        (toast,) = [n for n in app._notifications if "scale failed" in n.title]
        assert toast.severity == "error"
        assert toast.message.startswith("scale failed: refused: replicas must be")
        assert "scaled" not in toast.message


# ---- a: the approval that completes the quorum says so and asks ---------------------


def _as(app: QuorumApp, name: str, clock: Clock) -> Actions:
    """Another team member's view of the same database (as a second console would be)."""
    return Actions(app.session, identity=Identity(name, "root", via_seam=True), clock=clock)


async def test_the_approval_that_completes_a_production_quorum_asks_for_the_name(
    tmp_path: Path,
) -> None:
    clock = Clock()
    app = _app(tmp_path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, API_PROD)
        ref = app.selected.target.ref
        alice, bob = _as(app, "alice", clock), _as(app, "bob", clock)
        made = await alice.propose(Kind.DEPLOY, ref, revision="v2.9.0", reason="fix")
        await bob.vote(made.proposal.id, True)
        alice.close()
        bob.close()
        key = f"proposal-{made.proposal.id}"
        await settle(pilot, lambda: key in _pane(app).items and _pane(app).items[key].votes)
        await open_by_command(pilot, "apr", lambda: _pane(app))
        move_cursor(_pane(app).table, key)
        await pilot.press("a")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        assert "completes the quorum: deploy api v2.9.0 to production now?" in form.note
        assert [f.name for f in form.fields] == ["comment", "confirm"]
        await pilot.press(*"ship it", "enter", *"web", "enter")
        await settle(pilot, lambda: "type api to run it" in _error_of(form))
        assert app.screen is form and form.query_one("#f-comment").value == "ship it"
        assert not [r for r in AuditLog(app.session.audit_path).tail() if r.action == "deploy"]
        await pilot.press(*("backspace",) * 3, *"api", "enter")
        await settle(pilot, lambda: _pane(app).items[key].state == "executed")
        mine = [v for v in _pane(app).items[key].votes if v.voter == app.identity.name]
        assert mine[0].comment == "ship it"
        await settle(
            pilot, lambda: any(" deploy finished: approved proposal" in m for m in app.notices)
        )
        assert not any("consensus:" in m or "quorum vote" in m for m in app.notices)


async def test_an_approval_that_became_the_completing_one_meanwhile_is_not_cast_unasked(
    tmp_path: Path,
) -> None:
    clock = Clock()
    app = _app(tmp_path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, API_PROD)
        ref = app.selected.target.ref
        alice = _as(app, "alice", clock)
        made = await alice.propose(Kind.DEPLOY, ref, revision="v2.9.2")
        alice.close()
        key = f"proposal-{made.proposal.id}"
        await settle(pilot, lambda: key in _pane(app).items)
        await open_by_command(pilot, "apr", lambda: _pane(app))
        move_cursor(_pane(app).table, key)
        await pilot.press("a")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        assert form.note == "" and [f.name for f in form.fields] == ["comment"]
        bob = _as(app, "bob", clock)
        await bob.vote(made.proposal.id, True)  # while the form is open
        bob.close()
        await pilot.press("enter")
        await settle(pilot, lambda: "yours now completes the quorum" in _error_of(form))
        assert app.screen is form
        assert not any(v.voter == app.identity.name for v in _pane(app).items[key].votes)
        await pilot.press("escape", "a")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen) and app.screen is not form)
        assert "completes the quorum" in app.screen.note


async def test_a_vote_landing_after_the_form_closed_leaves_the_approval_uncast(
    tmp_path: Path,
) -> None:
    """The form saw no quorum to complete; a vote another console cast between its
    submit and the cast made this approval the completing one: the engine refuses it,
    the console says so in one line, and nothing is recorded or run."""
    clock = Clock()
    app = _app(tmp_path, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, API_PROD)
        ref = app.selected.target.ref
        alice = _as(app, "alice", clock)
        made = await alice.propose(Kind.DEPLOY, ref, revision="v2.9.3")
        alice.close()
        key = f"proposal-{made.proposal.id}"
        await settle(pilot, lambda: key in _pane(app).items)
        cast = app.actions.vote

        async def after_bob(*args, **kwargs):
            bob = _as(app, "bob", clock)
            await bob.vote(made.proposal.id, True)
            bob.close()
            return await cast(*args, **kwargs)

        app.actions.vote = after_bob
        await open_by_command(pilot, "apr", lambda: _pane(app))
        move_cursor(_pane(app).table, key)
        await pilot.press("a")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        assert app.screen.note == ""
        await pilot.press("enter")
        await settle(pilot, lambda: any("approve again to confirm" in m for m in app.notices))
        assert isinstance(app.screen, MainScreen) and app.is_running
        await settle(pilot, lambda: [v.voter for v in _pane(app).items[key].votes] == ["bob"])
        assert _pane(app).items[key].state == "open"
        mine = [r for r in AuditLog(app.session.audit_path).tail() if r.who == app.identity.name]
        assert mine == []


async def test_a_proposer_pressing_a_is_refused_at_once_and_told_who_votes(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, API_PROD)
        ref = app.selected.target.ref
        made = await app.actions.propose(Kind.DEPLOY, ref, revision="v2.9.1")
        key = f"proposal-{made.proposal.id}"
        await settle(pilot, lambda: key in _pane(app).items)
        await open_by_command(pilot, "apr", lambda: _pane(app))
        move_cursor(_pane(app).table, key)
        await pilot.press("a")
        await settle(pilot, lambda: any("self-approval" in m for m in app.notices))
        assert isinstance(app.screen, MainScreen)  # no comment asked for a refused vote
        # The same change proposed again from the console points to the open one.
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, PickScreen))
        await pilot.press("end", "enter")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press(*"v2.9.1", "enter", "enter")
        await settle(pilot, lambda: any("not proposed again" in m for m in app.notices))
        assert f"proposal {made.proposal.id} already proposes" in app.notices[-1]
        assert list(_pane(app).items) == [key]


# ---- toasts: few, titled by what happened, with the console's keys ------------------


async def test_start_up_says_in_one_toast_what_waits_and_what_teammates_did(
    tmp_path: Path,
) -> None:
    clock = Clock()
    session = sandbox_session(tmp_path / "data")
    alice = Actions(session, identity=Identity("alice", "root", via_seam=True), clock=clock)
    bob = Actions(session, identity=Identity("bob", "root", via_seam=True), clock=clock)
    for service in ("api", "auth", "search"):
        ref = await _ref(session, service)
        await alice.propose(Kind.DEPLOY, ref, revision="v9.0.0")
    for service in ("billing", "notifier", "status-page"):
        ref = await _ref(session, service)
        await bob.propose(Kind.DEPLOY, ref, revision="v9.0.0")
    alice.close()
    bob.close()
    clock.now = PAUSED_AT + timedelta(seconds=2)  # before any teammate's moment
    app = QuorumApp(session, now=clock, identity=Identity("root", "root", via_seam=True))
    async with app.run_test(size=(120, 40)) as pilot:
        waits = "6 proposals wait for your vote — :apr then a or x"
        await settle(pilot, lambda: any(f"waiting for you: {waits}" in m for m in app.notices))
        clock.now = PAUSED_AT + timedelta(seconds=9)  # every teammate votes at once
        await settle(pilot, lambda: any("catch-up: teammates cast" in m for m in app.notices))
        summary = next(m for m in app.notices if "catch-up:" in m)
        assert ":messages lists each" in summary
        assert any(" vote: sandbox: " in m for m in app.notices)  # each kept for :messages
        # The toasts on screen (some may have timed out): what waits, the teammates' summary.
        assert len(app._notifications) <= 2
        assert not any("consensus:" in m or "quorum vote" in m for m in app.notices)
