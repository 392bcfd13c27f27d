"""The hub inside the console: stale rows keep their data, broken providers are named."""

from __future__ import annotations

from pathlib import Path

from console.app import QuorumApp
from providers.base import Unreachable
from providers.registry import BrokenProvider
from tests.app_support import (
    NOW,
    FakeProvider,
    make_session,
    settle,
    standard_targets,
    status_of,
    target,
)
from widgets.base.chrome import ProviderStatus


def _status(app: QuorumApp) -> str:
    return str(app.screen_stack[0].query_one(ProviderStatus).render())


async def test_a_failing_provider_keeps_its_rows_marked_stale(tmp_path: Path) -> None:
    alpha = FakeProvider("alpha", standard_targets(), tmp_path)
    beta = FakeProvider("beta", [target("beta", "search", "production")], tmp_path)
    session = make_session(tmp_path / "data", [alpha, beta])
    app = QuorumApp(session, now=lambda: NOW, poll_interval=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.services.table
        await settle(pilot, lambda: len(table.keys) == 5)
        assert "✓ 2 providers live" in _status(app)
        alpha.fail = Unreachable("connection refused by 10.0.0.1:6443")
        await settle(pilot, lambda: "alpha/api/production" in table._dim)
        # The rows are still there, with their last known values, marked.
        assert len(table.keys) == 5
        assert table.cells("alpha/api/production")[:4] == ("api", "production", "alpha ⚠", "v2.1")
        assert "beta/search/production" not in table._dim
        status = _status(app)
        assert "alpha stale" in status
        assert "unreachable: connection refused by 10.0.0.1:6443" in status
        # Recovery clears the mark.
        alpha.fail = None
        await settle(pilot, lambda: not table._dim)
        assert table.cells("alpha/api/production")[2] == "alpha"
        assert "✓ 2 providers live" in _status(app)


async def test_broken_providers_are_listed_with_their_reason(tmp_path: Path) -> None:
    alpha = FakeProvider("alpha", standard_targets(), tmp_path)
    broken = BrokenProvider("cloud", "ecs", "provider kind 'ecs' failed to import: no boto3")
    session = make_session(tmp_path / "data", [alpha], broken=[broken])
    app = QuorumApp(session, now=lambda: NOW, poll_interval=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        status = _status(app)
        assert "cloud (ecs) broken: provider kind 'ecs' failed to import: no boto3" in status


async def test_a_provider_error_text_cannot_inject_markup(tmp_path: Path) -> None:
    alpha = FakeProvider("alpha", standard_targets(), tmp_path)
    session = make_session(tmp_path / "data", [alpha])
    app = QuorumApp(session, now=lambda: NOW, poll_interval=0.05)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        alpha.fail = Unreachable("[reverse]spoof[/] \x1b]0;title\x07")
        await settle(pilot, lambda: "stale" in _status(app))
        status = _status(app)
        assert "[reverse]spoof[/]" in status
        assert "\x1b" not in status and "␛]0;title␇" in status


async def test_a_failing_metrics_fetch_never_stops_the_console(tmp_path: Path) -> None:
    alpha = FakeProvider("alpha", standard_targets(), tmp_path)
    alpha.metrics_fail = RuntimeError("metrics backend exploded")
    session = make_session(tmp_path / "data", [alpha])
    app = QuorumApp(session, now=lambda: NOW, poll_interval=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: "exploded" in status_of(app.metrics))
        assert app.is_running
        alpha.metrics_fail = None
        await pilot.press("down")  # another target: a fresh fetch that works
        await settle(pilot, lambda: app.metrics.fetches >= 1)
        assert status_of(app.metrics) == ""


async def test_a_burst_of_polls_repaints_services_once_with_the_newest_states(
    tmp_path: Path,
) -> None:
    """The hub's callback posts every provider's state; a pending message is replaced
    by a newer one, so a burst (start-up, ctrl-r, one watch event per provider) is
    shown once, and what is shown is the newest."""
    alpha = FakeProvider("alpha", standard_targets(), tmp_path)
    app = QuorumApp(make_session(tmp_path / "data", [alpha]), now=lambda: NOW, poll_interval=60)
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.services.table
        await settle(pilot, lambda: len(table.keys) == 4)
        shown: list[int] = []
        show = app.feeds.show_states
        app.feeds.show_states = lambda states: (shown.append(len(states)), show(states))
        for revision in ("v3", "v4", "v5"):  # three polls before the app reads a message
            alpha.set("api", "production", revision=revision)
            await app.hub.poll("alpha")
        await settle(pilot, lambda: table.cells("alpha/api/production")[3] == "v5")
        assert shown == [1]


def test_a_hub_message_replaces_only_a_hub_message() -> None:
    from textual.message import Message

    from console.tui.messages import HubChanged

    assert HubChanged({}).can_replace(HubChanged({}))
    assert not HubChanged({}).can_replace(Message())
