"""The Approvals pane as a person reads it at 3 a.m.: what waits for them first, newest
first; what settled after, dimmed; the cursor on the first waiting one, and on the new
proposal after `n`. On the paused sandbox, at 80x24 where only a few rows fit."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from console.app import QuorumApp
from console.domain.consensus import Kind
from console.domain.identity import Identity
from console.engine.actions import Actions
from providers.sandbox import PAUSED_AT
from tests.app_support import move_cursor, open_by_command, sandbox_session, screen_lines, settle
from widgets.dialogs.modals import FormScreen, PickScreen
from widgets.panes.approvals import ApprovalsPane

API_PROD = "sim-k8s/api/production"


class Clock:
    def __init__(self) -> None:
        self.now = PAUSED_AT

    def __call__(self):
        return self.now


def _pane(app: QuorumApp) -> ApprovalsPane:
    return app.screen_stack[0].query_one(ApprovalsPane)


def _detail(app: QuorumApp) -> str:
    return str(_pane(app).query_one("#approval-detail").render())


def _row_is_dim(pane: ApprovalsPane, key: str) -> bool:
    """Whether the row of `key`, as painted, is dimmed (every segment with text)."""
    table = pane.table
    strip = table.render_line(table.keys.index(key) + 1 - int(table.scroll_y))
    painted = [s for s in strip if s.text.strip()]
    return bool(painted) and all(s.style is not None and s.style.dim for s in painted)


async def test_waiting_first_newest_first_settled_after_dimmed(tmp_path: Path) -> None:
    clock = Clock()
    session = sandbox_session(tmp_path / "data")
    app = QuorumApp(session, now=clock, poll_interval=0.5, side_interval=0.3)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: API_PROD in app.services.table.keys)
        move_cursor(app.services.table, API_PROD)
        await settle(pilot, lambda: app.selected is not None and app.selected.key == API_PROD)
        ref = app.selected.target.ref
        alice = Actions(session, identity=Identity("alice", "root", via_seam=True), clock=clock)
        ids = []
        for n, revision in enumerate(("v9.9.1", "v9.9.2", "v9.9.3", "v9.9.4")):
            clock.now = PAUSED_AT + timedelta(seconds=n)  # each newer than the last
            ids.append((await alice.propose(Kind.DEPLOY, ref, revision=revision)).proposal.id)
        oldest, withdrawn_first, newest_waiting, withdrawn_last = ids
        await alice.withdraw(withdrawn_first)
        await alice.withdraw(withdrawn_last)
        alice.close()
        key = {pid: f"proposal-{pid}" for pid in ids}
        await open_by_command(pilot, "apr", lambda: _pane(app))
        await settle(pilot, lambda: len(_pane(app).items) == 4)
        pane = _pane(app)
        assert pane.table.keys == [
            key[newest_waiting],
            key[oldest],
            key[withdrawn_last],
            key[withdrawn_first],
        ]
        assert pane.selected.key == key[newest_waiting]
        assert "v9.9.3" in _detail(app)
        assert not _row_is_dim(pane, key[newest_waiting])
        assert not _row_is_dim(pane, key[oldest])
        assert _row_is_dim(pane, key[withdrawn_last])
        assert _row_is_dim(pane, key[withdrawn_first])

        # `n` from a settled row: the new proposal comes first and the detail is its own.
        move_cursor(pane.table, key[withdrawn_first])
        await settle(pilot, lambda: "v9.9.2" in _detail(app))
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, PickScreen))
        revision = app.screen.options[1][0]
        await pilot.press("down", "enter")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press(*"new build", "enter")
        await settle(pilot, lambda: len(pane.items) == 5)
        new = pane.table.keys[0]
        assert new not in key.values()
        await settle(pilot, lambda: pane.selected is not None and pane.selected.key == new)
        await settle(pilot, lambda: f"deploy api@production to {revision}" in _detail(app))


async def test_the_detail_takes_the_room_the_rows_leave(tmp_path: Path) -> None:
    """At 80x24 one proposal with its long outcome and two votes: every vote shows under
    it, in the rows the table does not need; with more proposals the rows keep most of
    the pane."""
    clock = Clock()
    session = sandbox_session(tmp_path / "data")
    app = QuorumApp(session, now=clock, poll_interval=0.5, side_interval=0.3)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: API_PROD in app.services.table.keys)
        move_cursor(app.services.table, API_PROD)
        await settle(pilot, lambda: app.selected is not None and app.selected.key == API_PROD)
        ref = app.selected.target.ref
        mates = {
            name: Actions(session, identity=Identity(name, "root", via_seam=True), clock=clock)
            for name in ("alice", "bob", "carol")
        }
        made = await mates["alice"].propose(Kind.DEPLOY, ref, revision="v9.9.1", reason="x" * 90)
        await mates["bob"].vote(made.proposal.id, True, "fine by me")
        await mates["carol"].vote(made.proposal.id, False, "wait for the fix")
        await open_by_command(pilot, "apr", lambda: _pane(app))
        pane = _pane(app)
        await settle(pilot, lambda: len(pane.items) == 1 and len(pane.selected.votes) == 2)
        await settle(pilot, lambda: "wait for the fix" in " ".join(screen_lines(app)))
        assert "fine by me" in " ".join(screen_lines(app))
        for n in range(2, 9):
            clock.now = PAUSED_AT + timedelta(seconds=n)
            await mates["alice"].propose(Kind.DEPLOY, ref, revision=f"v9.9.{n}")
        for actions in mates.values():
            actions.close()
        await settle(pilot, lambda: len(pane.items) == 8)
        await settle(
            pilot, lambda: pane.table.size.height - 1 >= 0.6 * pane.content_size.height - 1
        )
