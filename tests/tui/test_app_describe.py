"""`d` on the Services pane: the selected target's pods and events in a modal screen."""

from __future__ import annotations

from pathlib import Path

from textual.geometry import Region

from console.app import QuorumApp
from console.domain.model import EventInfo, PodInfo, TargetDetails, TargetRef
from providers.sandbox import PAUSED_AT
from tests.app_support import NOW, FakeProvider, make_session, move_cursor, sandbox_session, settle
from tests.app_support import target as make_target
from widgets.dialogs.details import DetailsScreen

HOSTILE_POD = "web-1\x1b]0;pwned\x07\x1b[2J[bold red]fake[/]"
HOSTILE_MESSAGE = "Back-off \x1b[31m[bold red]restarting[/] failed container"


def _text(app: QuorumApp, selector: str) -> str:
    """The cells the widget paints, as plain text: what a person reads on the screen."""
    widget = app.screen.query_one(selector)
    width, height = widget.content_size
    lines = widget.render_lines(Region(0, 0, width, height))
    return "\n".join(strip.text for strip in lines)


async def _select(pilot, app: QuorumApp, key: str) -> None:
    await settle(pilot, lambda: key in app.services.table.keys)
    move_cursor(app.services.table, key)
    await settle(pilot, lambda: app.selected is not None and app.selected.key == key)


class DescribedProvider(FakeProvider):
    """A fake backend whose details carry hostile pod names and event messages."""

    async def details(self, target: TargetRef) -> TargetDetails:
        row = next(t for t in self.targets if t.ref == target)
        pods = (
            PodInfo(HOSTILE_POD, "Running", False, 2, "CrashLoopBackOff", ("web",), "node-a", NOW),
        )
        events = (EventInfo(NOW, "Warning", "BackOff", HOSTILE_MESSAGE, 7, "pod/web-1"),)
        return TargetDetails(row, pods, events)


async def test_d_lists_the_pods_and_events_of_a_sandbox_target(tmp_path: Path) -> None:
    session = sandbox_session(tmp_path / "data", readonly=True)
    app = QuorumApp(session, now=lambda: PAUSED_AT, poll_interval=0.2, side_interval=0.3)
    key = "sim-k8s/api/staging"
    async with app.run_test(size=(140, 45)) as pilot:
        await _select(pilot, app, key)
        provider = session.providers["sim-k8s"]
        expected = await provider.details(app.selected.target.ref)
        assert expected.pods and expected.events
        await pilot.press("d")  # a read-only console still describes
        await settle(pilot, lambda: isinstance(app.screen, DetailsScreen))
        assert "api@staging" in _text(app, "#details-target")
        assert str(app.screen.query_one(".details").border_subtitle) == "↑↓ scroll · Esc closes"
        pods = _text(app, "#details-pods")
        for pod in expected.pods:
            assert pod.name in pods
        events = _text(app, "#details-events")
        assert expected.events[0].reason in events
        assert expected.events[0].message in events
        await pilot.press("q")
        await settle(pilot, lambda: not isinstance(app.screen, DetailsScreen))

        # The screen is reused: a second `d` on another target shows that target only.
        await _select(pilot, app, "sim-k8s/api/production")
        second = await provider.details(app.selected.target.ref)
        await pilot.press("d")
        await settle(pilot, lambda: isinstance(app.screen, DetailsScreen))
        await settle(pilot, lambda: "api@production" in _text(app, "#details-target"))
        pods = _text(app, "#details-pods")
        assert all(pod.name in pods for pod in second.pods)
        assert not any(pod.name in pods for pod in expected.pods)


async def test_hostile_pod_names_and_event_messages_show_literally(tmp_path: Path) -> None:
    web = make_target("alpha", "web", "staging")
    provider = DescribedProvider("alpha", [web], tmp_path / "p")
    app = QuorumApp(make_session(tmp_path / "data", [provider]), now=lambda: NOW)
    async with app.run_test(size=(160, 45)) as pilot:
        await _select(pilot, app, "alpha/web/staging")
        await pilot.press("d")
        await settle(pilot, lambda: isinstance(app.screen, DetailsScreen))
        pods = _text(app, "#details-pods")
        events = _text(app, "#details-events")
        assert "\x1b" not in pods and "\x1b" not in events
        assert "[bold red]fake[/]" in pods  # markup shown as text, not applied
        assert "␛]0;pwned␇" in pods
        assert "CrashLoopBackOff" in pods
        assert "[bold red]restarting[/]" in events
        assert "Warning" in events
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, DetailsScreen))


async def test_a_provider_without_details_gives_a_notice_and_no_screen(tmp_path: Path) -> None:
    provider = FakeProvider("alpha", [make_target("alpha", "web", "staging")], tmp_path / "p")
    app = QuorumApp(make_session(tmp_path / "data", [provider]), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await _select(pilot, app, "alpha/web/staging")
        await pilot.press("d")
        await settle(pilot, lambda: any("fake provider has no details" in m for m in app.notices))
        assert any("cannot describe web@staging" in m for m in app.notices)
        assert not isinstance(app.screen, DetailsScreen)


async def test_at_80_columns_pod_names_and_event_reasons_stay_on_one_line(tmp_path: Path) -> None:
    """A pod name folded over two lines reads as two pods: at 80x24 each is whole."""
    session = sandbox_session(tmp_path / "data", readonly=True)
    app = QuorumApp(session, now=lambda: PAUSED_AT, poll_interval=0.2, side_interval=0.3)
    async with app.run_test(size=(80, 24)) as pilot:
        await _select(pilot, app, "sim-ecs/search/production")
        details = await session.providers["sim-ecs"].details(app.selected.target.ref)
        assert details.pods and details.events
        await pilot.press("d")
        await settle(pilot, lambda: isinstance(app.screen, DetailsScreen))
        pods = _text(app, "#details-pods").splitlines()
        for pod in details.pods:
            assert any(pod.name in line for line in pods), pods
        events = _text(app, "#details-events").splitlines()
        for event in details.events:
            assert any(event.reason in line for line in events), events
