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


class NarrowProvider(FakeProvider):
    """Credentials that may list none of several kinds: a note for each."""

    KINDS = ("daemonsets", "statefulsets", "cronjobs")

    async def snapshot(self) -> Snapshot:
        notes = tuple(
            f"{kind} hidden: the credentials may not list them (403)" for kind in self.KINDS
        )
        return Snapshot(self.name, tuple(self.targets), NOW, notes=notes)


async def test_several_notes_at_once_make_one_toast_and_stay_in_messages(tmp_path: Path) -> None:
    provider = NarrowProvider("k8s", standard_targets("k8s"), tmp_path)
    app = QuorumApp(make_session(tmp_path / "data", [provider]), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        summary = "3 notes on what providers leave out — :messages lists them"
        await settle(pilot, lambda: any(summary in m for m in app.notices))
        for kind in NarrowProvider.KINDS:
            assert any(f"k8s: {kind} hidden" in m for m in app.notices)
        assert len(app._notifications) <= 1  # the toasts on screen (some may have timed out)


async def test_an_undelivered_notice_is_shown_as_a_warning(tmp_path: Path) -> None:
    provider = FakeProvider("k8s", standard_targets("k8s"), tmp_path)
    app = QuorumApp(make_session(tmp_path / "data", [provider]), now=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: app.feeds.started)
        app.actions.on_warning("notice not delivered: slack: HTTP 500")
        assert any("warning: notice not delivered: slack: HTTP 500" in m for m in app.notices)
