"""Acting safely from the console: what a rollback offers, a revision typed for a
proposal, and dialogs that keep their input when something is wrong."""

from __future__ import annotations

from pathlib import Path

from console.app import QuorumApp
from console.domain.model import Revision, TargetRef
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
