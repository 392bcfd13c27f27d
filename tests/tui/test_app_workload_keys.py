"""k9s workload keys on the Services pane (`r` restart, `s` scale) and the access check
that runs before ctrl-l, `r` and `s` open any dialog."""

from __future__ import annotations

from pathlib import Path

from console.app import QuorumApp
from console.domain.consensus import Kind, State
from console.domain.model import TargetRef
from console.store.audit import AuditLog
from console.store.proposals import ProposalStore
from providers.base import Capability
from providers.sandbox import PAUSED_AT
from tests.app_support import (
    NOW,
    FakeProvider,
    make_session,
    move_cursor,
    sandbox_session,
    settle,
    standard_targets,
)
from widgets.dialogs.help import HelpScreen
from widgets.dialogs.modals import ConfirmScreen, FormScreen
from widgets.main import MainScreen

API_PROD = "sim-k8s/api/production"
API_STAGING = "sim-k8s/api/staging"
DENIAL = "deployments.apps is forbidden: User me cannot patch in namespace shop"


def _sandbox_app(tmp_path: Path, readonly: bool = False) -> QuorumApp:
    session = sandbox_session(tmp_path / "data", readonly=readonly)
    return QuorumApp(session, now=lambda: PAUSED_AT, poll_interval=0.2, side_interval=0.3)


async def _select(pilot, app: QuorumApp, key: str) -> None:
    await settle(pilot, lambda: key in app.services.table.keys)
    move_cursor(app.services.table, key)
    await settle(pilot, lambda: app.selected is not None and app.selected.key == key)


def _audit(app: QuorumApp, action: str) -> list[tuple[str, str]]:
    log = AuditLog(app.session.audit_path)
    try:
        return [(r.target, r.outcome) for r in log.tail(200) if r.action == action]
    finally:
        log.close()


def _proposals(app: QuorumApp) -> list:
    store = ProposalStore(app.session.audit_path)
    try:
        return store.list([State.OPEN])
    finally:
        store.close()


def _desired(app: QuorumApp, key: str) -> int | None:
    return next((r.target.desired for r in app.hub.rows() if r.key == key), None)


async def test_r_restarts_a_staging_target_after_yes(tmp_path: Path) -> None:
    app = _sandbox_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, API_STAGING)
        await pilot.press("r")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert app.screen.expect is None  # staging: y is enough
        await pilot.press("y")
        await settle(pilot, lambda: (API_STAGING, "finished") in _audit(app, "restart"))
        assert _audit(app, "restart") == [(API_STAGING, "started"), (API_STAGING, "finished")]
        assert any("restarted api@staging: restart finished" in m for m in app.notices)


async def test_s_asks_for_replicas_rejects_words_and_scales_to_three(tmp_path: Path) -> None:
    app = _sandbox_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, API_STAGING)
        before = _desired(app, API_STAGING)
        assert before != 3
        await pilot.press("s")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        await pilot.press("ctrl+u", "x", "enter")  # clear the current count, type a word
        error = form.query_one("#form-error")
        await settle(
            pilot, lambda: "replicas must be a whole number from 0 to" in str(error.render())
        )
        assert app.screen is form and form.query_one("#f-replicas").value == "x"  # kept
        assert _audit(app, "scale") == []
        await pilot.press("ctrl+u", "3", "enter")
        await settle(pilot, lambda: _desired(app, API_STAGING) == 3)
        await settle(pilot, lambda: app.services.table.cells(API_STAGING)[5].endswith("/3"))
        assert (API_STAGING, "finished") in _audit(app, "scale")


async def test_a_pasted_number_of_any_length_is_refused_in_the_form(tmp_path: Path) -> None:
    """5,000 digits pasted into replicas: Python refuses to read such an int at all, so
    the check must not try; the form says why and keeps what was typed."""
    app = _sandbox_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _select(pilot, app, API_STAGING)
        await pilot.press("s")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        pasted = "9" * 5000
        form.query_one("#f-replicas").value = pasted
        await pilot.press("enter")
        error = form.query_one("#form-error")
        await settle(
            pilot, lambda: "replicas must be a whole number from 0 to" in str(error.render())
        )
        assert app.is_running and app.screen is form
        assert form.query_one("#f-replicas").value == pasted
        assert _audit(app, "scale") == []


async def test_production_restart_needs_the_name_and_opens_a_proposal(tmp_path: Path) -> None:
    app = _sandbox_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, API_PROD)
        await pilot.press("r")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert app.screen.expect == "api"
        await pilot.press(*"web", "enter")  # the wrong name does nothing
        assert isinstance(app.screen, ConfirmScreen)
        assert _proposals(app) == []
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, MainScreen))
        assert _proposals(app) == []
        await pilot.press("r")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press(*"api", "enter")
        await settle(pilot, lambda: len(_proposals(app)) == 1)
        proposal = _proposals(app)[0]
        assert (proposal.kind, proposal.ref.key) == (Kind.RESTART, API_PROD)
        assert _audit(app, "restart") == []  # a proposal, not a restart
        await settle(pilot, lambda: any("proposal opened" in m for m in app.notices))


async def test_readonly_removes_r_and_s_and_says_why(tmp_path: Path) -> None:
    app = _sandbox_app(tmp_path, readonly=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, API_STAGING)
        shown = {b.binding.key for b in app.screen.active_bindings.values()}
        assert not {"r", "s", "ctrl+l"} & shown
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
        services = {e.key for e in app.screen.entries if e.group == "services"}
        assert "N" in services and not {"r", "s"} & services
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.press("r", "s")
        assert isinstance(app.screen, MainScreen)
        assert any("read-only console: restart is disabled" in m for m in app.notices)
        assert any("read-only console: scale is disabled" in m for m in app.notices)
        assert _audit(app, "restart") == [] and _audit(app, "scale") == []


async def test_help_lists_r_and_s_and_the_log_pane_keeps_its_s(tmp_path: Path) -> None:
    app = _sandbox_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, API_STAGING)
        await pilot.press("question_mark")
        await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
        entries = {(e.group, e.key): e.description for e in app.screen.entries}
        assert entries[("services", "r")] == "Restart"
        assert entries[("services", "s")] == "Scale"
        assert entries[("global", "^l")] == "Rollback"
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.press("l")
        await settle(pilot, lambda: app.focused is app.logs.view)
        assert app.logs.view.autoscroll
        await pilot.press("s")
        await settle(pilot, lambda: not app.logs.view.autoscroll)
        assert isinstance(app.screen, MainScreen)  # autoscroll, not the scale form


class Denying(FakeProvider):
    """A backend whose access review refuses every change, and which records any call."""

    capabilities = FakeProvider.capabilities | Capability.RESTART | Capability.SCALE

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.asked: list[tuple[str, Capability]] = []
        self.calls: list[str] = []

    async def denied(self, target: TargetRef, capability: Capability) -> str | None:
        self.asked.append((target.key, capability))
        return DENIAL

    async def rollback(self, target: TargetRef, to: str | None = None) -> str:
        self.calls.append("rollback")
        return "rolled back"

    async def restart(self, target: TargetRef) -> str:
        self.calls.append("restart")
        return "restarted"

    async def scale(self, target: TargetRef, replicas: int) -> str:
        self.calls.append("scale")
        return "scaled"


async def test_a_denied_change_shows_the_reason_and_opens_nothing(tmp_path: Path) -> None:
    provider = Denying("alpha", standard_targets(), tmp_path)
    app = QuorumApp(make_session(tmp_path / "data", [provider]), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, "alpha/api/staging")
        for key, capability in (
            ("ctrl+l", Capability.ROLLBACK),
            ("r", Capability.RESTART),
            ("s", Capability.SCALE),
        ):
            await pilot.press(key)
            await settle(pilot, lambda c=capability: ("alpha/api/staging", c) in provider.asked)
            what = capability.name.lower()
            await settle(
                pilot, lambda w=what: any(f"cannot {w} api@staging" in m for m in app.notices)
            )
            assert isinstance(app.screen, MainScreen)
        denials = [m for m in app.notices if DENIAL in m]
        assert len(denials) == 3
        assert provider.calls == []
        assert _audit(app, "rollback") == [] and _audit(app, "restart") == []


async def test_a_provider_that_cannot_restart_or_scale_says_so(tmp_path: Path) -> None:
    provider = FakeProvider("alpha", standard_targets(), tmp_path)  # no RESTART, no SCALE
    app = QuorumApp(make_session(tmp_path / "data", [provider]), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, "alpha/api/staging")
        await pilot.press("r")
        await settle(pilot, lambda: any("cannot restart api@staging" in m for m in app.notices))
        await pilot.press("s")
        await settle(pilot, lambda: any("cannot scale api@staging" in m for m in app.notices))
        assert isinstance(app.screen, MainScreen)
        assert any("provider alpha (fake) cannot restart" in m for m in app.notices)
