"""What the console says, said once and in plain words: a required field, a count of
approvals, a provider that never answered, `:incomplete` with nothing incomplete."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Label

from console.app import QuorumApp
from console.domain.consensus import Kind
from console.domain.identity import Identity
from console.domain.wording import count
from console.engine.actions import Actions
from console.engine.targets import resolve_target
from providers.base import Unreachable
from providers.sandbox import PAUSED_AT
from tests.app_support import (
    NOW,
    FakeProvider,
    make_session,
    move_cursor,
    open_by_command,
    sandbox_session,
    settle,
    standard_targets,
    title_of,
)
from widgets.base.chrome import ProviderStatus
from widgets.dialogs.help import HelpScreen
from widgets.dialogs.modals import Field, FormScreen, PickScreen
from widgets.panes.approvals import ApprovalsPane

API_PROD = "sim-k8s/api/production"


def test_counts_agree_with_their_number() -> None:
    assert [count(n, "approval") for n in (0, 1, 2)] == ["0 approvals", "1 approval", "2 approvals"]
    assert count(2, "policy") == "2 policies"
    assert count(3, "day") == "3 days"


async def test_propose_says_how_many_approvals_and_a_missing_reason_once(tmp_path: Path) -> None:
    app = QuorumApp(sandbox_session(tmp_path / "data"), now=lambda: PAUSED_AT, poll_interval=0.5)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: API_PROD in app.services.table.keys)
        move_cursor(app.services.table, API_PROD)
        await settle(pilot, lambda: app.selected is not None and app.selected.key == API_PROD)
        await settle(pilot, lambda: app.screen_stack[0].query(ApprovalsPane))
        await open_by_command(pilot, "apr", app.screen_stack[0].query_one(ApprovalsPane))
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, PickScreen))
        await pilot.press("down", "enter")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        assert app.screen.note == "production needs 2 approvals"
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, FormScreen))
        # The override's reason field says it is required; left empty, that is said once.
        fields = [Field("reason", "Reason (required, goes to the audit log):")]
        app.push_screen(FormScreen("override", fields))
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press("enter")
        error = app.screen.query_one("#form-error", Label)
        await settle(pilot, lambda: str(error.render()) != "")
        assert str(error.render()) == "Reason is required"


async def test_incomplete_with_nothing_incomplete_says_so(tmp_path: Path) -> None:
    provider = FakeProvider("alpha", standard_targets(), tmp_path)
    app = QuorumApp(make_session(tmp_path / "data", [provider]), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        await settle(pilot, lambda: app.screen_stack[0].query("#audit"))
        assert not any("incomplete" in m for m in app.notices)  # at start: no word
        await pilot.press("colon", *"incomplete", "enter")
        await settle(pilot, lambda: any("no incomplete actions" in m for m in app.notices))
        assert not isinstance(app.screen, PickScreen)


async def test_a_provider_that_never_answered_is_said_so(tmp_path: Path) -> None:
    alpha = FakeProvider("alpha", standard_targets(), tmp_path)
    beta = FakeProvider("beta", standard_targets("beta"), tmp_path)
    beta.fail = Unreachable("connection refused")
    app = QuorumApp(make_session(tmp_path / "data", [alpha, beta]), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        status = app.screen_stack[0].query_one(ProviderStatus)
        await settle(pilot, lambda: "beta" in str(status.render()))
        text = str(status.render())
        assert "beta never answered, nothing shown from it: " in text
        assert "never ok" not in text


async def test_each_override_is_named_for_what_it_is(tmp_path: Path) -> None:
    """Approvals' override is the emergency bypass of a vote, Rotation's puts someone on
    a rotation: at 80x24 each title, key and note says which, in the README's words."""
    app = QuorumApp(
        sandbox_session(tmp_path / "data"),
        now=lambda: PAUSED_AT,
        poll_interval=0.5,
        side_interval=0.3,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: API_PROD in app.services.table.keys)
        alice = Actions(
            app.session, identity=Identity("alice", "root", via_seam=True), clock=lambda: PAUSED_AT
        )
        ref = (await resolve_target(app.session, "api", "production")).ref
        made = await alice.propose(Kind.DEPLOY, ref, revision="v9.9.7")
        await alice.override(made.proposal.id, "outage")
        alice.close()
        pane = app.screen_stack[0].query_one(ApprovalsPane)
        key = f"proposal-{made.proposal.id}"
        await settle(pilot, lambda: key in pane.items and pane.items[key].awaiting_review)
        assert title_of(pane).endswith("· 1 emergency override to review")
        assert any(
            n.startswith("⚑ emergency override by alice: outage") for n in pane.items[key].notes
        )
        keys = {}
        for command, group in [("apr", "approvals"), ("rot", "rotation")]:
            await open_by_command(pilot, command, app.pane(group))
            await pilot.press("question_mark")
            await settle(pilot, lambda: isinstance(app.screen, HelpScreen))
            keys[group] = {e.key: e.description for e in app.screen.entries if e.group == group}
            await pilot.press("escape")
            await settle(pilot, lambda: not isinstance(app.screen, HelpScreen))
        assert keys["approvals"]["o"] == "Emergency override"
        assert keys["approvals"]["R"] == "Review override"
        assert keys["rotation"]["o"] == "Rotation override"
