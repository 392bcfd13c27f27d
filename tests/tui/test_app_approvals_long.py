"""A long list of open proposals: the Approvals pane lists the newest and says how many
it leaves out, and takes in a change made by another console."""

from __future__ import annotations

import gc
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from console.app import QuorumApp
from console.domain.consensus import Kind
from console.domain.identity import Identity
from console.domain.model import ProviderApproval, TargetRef
from console.engine.actions import Actions
from console.tui import feeds, views
from providers.sandbox import PAUSED_AT
from tests.app_support import sandbox_session, settle
from widgets.panes.approvals import ApprovalsPane, ApprovalView

API_PROD = TargetRef("sim-k8s", "api", "production", "deployment/api")


@pytest.fixture(autouse=True)
def quiet_teammates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")
    monkeypatch.setattr(feeds, "OPEN_SHOWN", 3)


async def test_the_pane_lists_the_newest_open_proposals_and_says_how_many(
    tmp_path: Path,
) -> None:
    session = sandbox_session(tmp_path / "data")
    bob = Actions(session, identity=Identity("bob", "root", via_seam=True), clock=lambda: PAUSED_AT)
    alice = Actions(
        session, identity=Identity("alice", "root", via_seam=True), clock=lambda: PAUSED_AT
    )
    ids = [
        (await bob.propose(Kind.DEPLOY, API_PROD, revision=f"v9.{i}.0")).proposal.id
        for i in range(5)
    ]
    app = QuorumApp(session, now=lambda: PAUSED_AT, poll_interval=0.5, side_interval=0.3)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            newest = {views.proposal_key(pid) for pid in ids[-3:]}
            await settle(pilot, lambda: bool(app.screen_stack[0].query(ApprovalsPane)))
            pane = app.screen_stack[0].query_one(ApprovalsPane)
            await settle(pilot, lambda: set(pane.items) == newest)
            assert pane._shown_status.startswith("+2 older: quorum approvals")

            # Another console's vote changes the file: the next refresh shows it.
            await alice.vote(ids[-1], True)
            key = views.proposal_key(ids[-1])
            await settle(pilot, lambda: any(v.voter == "alice" for v in pane.items[key].votes))
    finally:
        bob.close()
        alice.close()


def test_a_new_but_equal_list_of_provider_approvals_keeps_the_pane_as_drawn() -> None:
    """Every 30 s the providers are asked again and answer with a new list: an equal one
    redraws none of the pane's rows; a changed one, or a changed file, does."""
    item = ProviderApproval("ci", "ci:4242/production", "deploy api", "production")
    later = PAUSED_AT + timedelta(minutes=5)
    shown = feeds.ShownApprovals((7, 0), [item], until=later, redraw_at=later)
    again = [ProviderApproval("ci", "ci:4242/production", "deploy api", "production")]
    assert shown.holds((7, 0), again, PAUSED_AT)
    assert not shown.holds((7, 0), [replace(item, detail="wait timer: 5 min")], PAUSED_AT)
    assert not shown.holds((7, 0), [], PAUSED_AT)
    assert not shown.holds((8, 0), again, PAUSED_AT)
    assert not shown.holds((7, 0), again, PAUSED_AT + timedelta(minutes=5))


async def test_an_age_redraw_shows_the_views_built_for_the_last_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With 200 rows the views cost a few ms of the loop each time; the ages move every
    15 s (every 2 s while a row is under a minute old) with nothing read again."""
    session = sandbox_session(tmp_path / "data")
    bob = Actions(session, identity=Identity("bob", "root", via_seam=True), clock=lambda: PAUSED_AT)
    alice = Actions(
        session, identity=Identity("alice", "root", via_seam=True), clock=lambda: PAUSED_AT
    )
    for i in range(2):
        await bob.propose(Kind.DEPLOY, API_PROD, revision=f"v9.{i}.0")
    built: list[str] = []
    build = views.waiting_view

    def counting(item: object) -> ApprovalView:
        view = build(item)
        built.append(view.key)
        return view

    # Reads of the approvals in flight (the start runs two at once), and those that built
    # nothing: the start writes to the file once after its first read.
    reading, quiet = [0], [0]
    read = feeds.Feeds.refresh_approvals

    async def counted(self: feeds.Feeds) -> None:
        reading[0] += 1
        before = len(built)
        try:
            await read(self)
        finally:
            reading[0] -= 1
            quiet[0] += len(built) == before

    monkeypatch.setattr(views, "waiting_view", counting)
    monkeypatch.setattr(feeds.Feeds, "refresh_approvals", counted)
    clock = [PAUSED_AT + timedelta(seconds=5)]
    app = QuorumApp(session, now=lambda: clock[0], poll_interval=0.5, side_interval=0.3)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot, lambda: bool(app.screen_stack[0].query(ApprovalsPane)))
            pane = app.screen_stack[0].query_one(ApprovalsPane)
            table = pane.table
            await settle(pilot, lambda: len(pane.items) == 2 and quiet[0] and not reading[0])
            key = table.keys[0]
            assert table.cells(key)[-1] == "5s"
            count = len(built)
            clock[0] = PAUSED_AT + timedelta(seconds=25)  # the young rows' ages move
            await settle(pilot, lambda: table.cells(key)[-1] == "25s" and not reading[0])
            assert len(built) == count
            await alice.vote(pane.items[key].proposal_id, True)  # the file changed
            await settle(pilot, lambda: len(built) > count)
    finally:
        bob.close()
        alice.close()


async def test_what_the_console_read_is_left_out_of_full_collections(tmp_path: Path) -> None:
    """A full pass of the cyclic collector walked every object alive, the kept proposals
    too, on the event loop (~80 ms with 10,000 open): what a read brought stays until
    the file changes, so the passes leave it out; the console puts it back as it quits."""
    session = sandbox_session(tmp_path / "data")
    bob = Actions(session, identity=Identity("bob", "root", via_seam=True), clock=lambda: PAUSED_AT)
    for i in range(2):
        await bob.propose(Kind.DEPLOY, API_PROD, revision=f"v9.{i}.0")
    app = QuorumApp(session, now=lambda: PAUSED_AT, poll_interval=0.5, side_interval=0.3)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot, lambda: app.feeds._approvals_shown is not None)
            shown = app.feeds._approvals_shown.shown
            assert len(shown) == 2
            walked = {id(o) for o in gc.get_objects()}
            assert not any(id(view) in walked or id(view.proposal) in walked for view in shown)
        assert gc.get_freeze_count() == 0
        walked = {id(o) for o in gc.get_objects()}
        assert all(id(view) in walked for view in shown)
    finally:
        bob.close()
