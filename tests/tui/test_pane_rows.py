"""Panes redraw without building again the rows that did not change: the Approvals
pane's ages move every 15 s for 200 rows (every 2 s while a row is under a minute
old), and the Audit pane keeps 500 records, one more with every change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from console.store.audit import AuditRecord
from tests.app_support import settle
from widgets.panes.approvals import ApprovalsPane, ApprovalView, VoteView
from widgets.panes.audit import AuditPane

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Pane(App):
    def __init__(self) -> None:
        super().__init__()
        self.clock = START

    def compose(self) -> ComposeResult:
        yield ApprovalsPane(lambda: self.clock)
        yield AuditPane()


def _item(n: int, minutes: int, votes: tuple[VoteView, ...] = ()) -> ApprovalView:
    return ApprovalView(
        key=f"p{n}",
        what=f"deploy api v{n}",
        proposer="bob",
        state="open",
        summary="needs 1 more approval",
        created_at=START - timedelta(minutes=minutes),
        votes=votes,
        proposal_id=n,
    )


async def test_an_age_redraw_builds_again_only_rows_that_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[str] = []
    build = ApprovalsPane._cells

    def counting(item: ApprovalView, age_label: str) -> tuple[Text, ...]:
        built.append(item.key)
        return build(item, age_label)

    monkeypatch.setattr(ApprovalsPane, "_cells", staticmethod(counting))
    app = Pane()
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(ApprovalsPane)
        await settle(pilot, lambda: pane.table.size.height > 0)
        pane.show([_item(1, 0), _item(2, 5), _item(3, 90)])
        assert built == ["p1", "p2", "p3"]

        # 40 s on: the young row's age moves; every row is equal to the one shown.
        app.clock = START + timedelta(seconds=40)
        pane.show([_item(1, 0), _item(2, 5), _item(3, 90)])
        assert [pane.table.cells(k)[-1] for k in ("p1", "p2", "p3")] == ["40s", "5m", "1h"]
        assert built == ["p1", "p2", "p3"]

        # A vote on one row: that row alone is built again, and shows it.
        vote = VoteView("alice", True, START)
        pane.show([_item(1, 0), _item(2, 5, (vote,)), _item(3, 90)])
        assert pane.table.cells("p2")[4] == "+1 -0"
        assert built == ["p1", "p2", "p3", "p2"]

        # A row that went and came back is built again (nothing kept for rows not shown).
        pane.show([_item(1, 0), _item(3, 90)])
        pane.show([_item(1, 0), _item(2, 5, (vote,)), _item(3, 90)])
        assert built == ["p1", "p2", "p3", "p2", "p2"]


def _record(seq: int) -> AuditRecord:
    return AuditRecord(seq, START + timedelta(seconds=seq), "bob", "approve", "api", "prod")


async def test_a_new_audit_record_builds_its_own_row_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[int] = []
    build = AuditPane._cells

    def counting(record: AuditRecord, seconds: bool, short: bool) -> tuple[Text, ...]:
        built.append(record.seq)
        return build(record, seconds, short)

    monkeypatch.setattr(AuditPane, "_cells", staticmethod(counting))
    app = Pane()
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(AuditPane)
        await settle(pilot, lambda: pane.table.size.height > 0)
        pane.add([_record(n) for n in range(1, 6)])
        assert sorted(built) == [1, 2, 3, 4, 5]
        built.clear()
        pane.add([_record(6)])
        assert built == [6]
        assert pane.table.keys == ["6", "5", "4", "3", "2", "1"]
        assert pane.table.cells("6")[2:4] == ("bob", "approve")
