"""What a provider leaves out, and notices that did not go out, reach the person at the
console as they reach the command line's stderr."""

from __future__ import annotations

from pathlib import Path

from console.app import QuorumApp
from console.domain.model import Snapshot
from tests.app_support import NOW, FakeProvider, make_session, settle, standard_targets

HIDDEN = "daemonsets hidden: the credentials may not list them (403)"


class PartialProvider(FakeProvider):
    """A provider whose credentials may not list one kind, as a namespaced role can."""

    async def snapshot(self) -> Snapshot:
        self.polls += 1
        return Snapshot(self.name, tuple(self.targets), NOW, notes=(HIDDEN,))


async def test_what_a_provider_hides_is_said_once(tmp_path: Path) -> None:
    provider = PartialProvider("k8s", standard_targets("k8s"), tmp_path)
    app = QuorumApp(make_session(tmp_path / "data", [provider]), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: any(HIDDEN in m for m in app.notices))
        polls = provider.polls
        await pilot.press("ctrl+r")
        await settle(pilot, lambda: provider.polls > polls + 1)
        said = [m for m in app.notices if HIDDEN in m]
        assert len(said) == 1 and "k8s: " in said[0] and "hidden from view" in said[0]


async def test_an_undelivered_notice_is_shown_as_a_warning(tmp_path: Path) -> None:
    provider = FakeProvider("k8s", standard_targets("k8s"), tmp_path)
    app = QuorumApp(make_session(tmp_path / "data", [provider]), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: app.feeds.started)
        app.actions.on_warning("notice not delivered: slack: HTTP 500")
        assert any("warning: notice not delivered: slack: HTTP 500" in m for m in app.notices)
