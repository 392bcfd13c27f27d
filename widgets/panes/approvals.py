"""The Approvals pane: proposals with their votes and what each still needs.

The table lists open and recent proposals (and approvals a backend holds itself);
the detail under it shows the selected one's votes (who, approve or reject, the
comment, when) and the requirement line ("needs 1 more approval; rejections 1 of
2 to block"). Every decision is the console's: the pane posts a typed request for
it, and answers itself only what needs no backend ("no proposal selected").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from console.domain.inert import neutralise
from console.domain.wording import count
from widgets.base.format import STATE_STYLES, age
from widgets.base.pane import Pane
from widgets.base.table import Column, KeyedTable

# The change is what a row is read for: a narrow pane (about 30 cells at 120x40) gives
# up NEEDS (the detail below says it whole), then who and when and the state (waiting
# rows come first and settled ones are dimmed), then the votes, before it cuts it.
COLUMNS = [
    Column("id", "ID", 4, justify="right"),
    Column("what", "CHANGE", 30, flex=True),
    Column("by", "BY", 8, priority=2),
    Column("state", "STATE", 9, priority=2),
    Column("votes", "VOTES", 5, priority=1),
    Column("needs", "NEEDS", 22, flex=True, priority=3),
    Column("age", "AGE", 4, justify="right", priority=2),
]


@dataclass(frozen=True)
class VoteView:
    voter: str
    approve: bool
    at: datetime
    comment: str = ""
    counted: bool = True


@dataclass(frozen=True)
class ApprovalView:
    """One row: a Quorum proposal (`proposal_id` set) or an approval a backend holds."""

    key: str
    what: str
    proposer: str
    state: str
    summary: str
    created_at: datetime | None = None
    votes: tuple[VoteView, ...] = ()
    notes: tuple[str, ...] = ()  # override, review, execution detail, a provider's link
    proposal_id: int | None = None
    version: int | None = None  # the proposal's version shown: a vote is bound to it
    awaiting_review: bool = False
    provider: str = ""  # the backend that holds it, when it is not a Quorum proposal
    approval_id: str = ""  # its id there, PROVIDER:REFERENCE (as `quorum approvals` lists)
    settled: bool = False  # ran, failed, expired or withdrawn: shown after, dimmed


class ApprovalsPane(Pane):
    """Proposals and their votes; n new, a approve, x reject, o emergency override, R review."""

    TITLE = "approvals"
    COMMAND = "approvals"
    ALIASES = ("apr", "approval", "proposals", "pr")
    MUTATING: ClassVar[Mapping[str, str]] = {
        "propose": "propose a change",
        "approve": "vote",
        "reject": "vote",
        "override": "override",
        "review": "review an override",
    }

    BINDINGS = [
        Binding("n", "propose", "New proposal"),
        Binding("a", "approve", "Approve"),
        Binding("x", "reject", "Reject"),
        Binding("o", "override", "Emergency override"),
        Binding("R", "review", "Review override"),
    ]

    @dataclass
    class ProposeRequested(Message):
        """`n`: propose a deploy of the target selected in Services."""

    @dataclass
    class VoteRequested(Message):
        """`a` or `x` on a Quorum proposal (a rejection asks for a comment first)."""

        pid: int
        approve: bool
        version: int | None = None  # what the person saw; amended since → refused

    @dataclass
    class ProviderVoteRequested(Message):
        """`a` or `x` on an approval a provider holds: the vote goes to that provider."""

        approval_id: str
        approve: bool

    @dataclass
    class OverrideRequested(Message):
        """`o`: the emergency override of a proposal."""

        pid: int
        what: str

    @dataclass
    class ReviewRequested(Message):
        """`R`: review an override (the selected one, else the first waiting)."""

        pid: int
        what: str

    def __init__(self, now: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.now = now
        self.items: dict[str, ApprovalView] = {}
        self._wanted: str | None = None  # a row to select once it is shown (`reveal`)
        # The row the pane itself put the cursor on; while the person has not moved it,
        # it stays on the first row as rows come and go.
        self._placed: str | None = None
        self._detail_room = 0  # the detail's height limit as last set (_fit_detail)
        # Each row's cells as last built, by key: a redraw for the ages (every 15 s, every
        # 2 s while a row is under a minute old) rebuilds only the rows that changed.
        self._rows: dict[str, tuple[ApprovalView, tuple[Text, ...]]] = {}

    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, empty_text="no proposal waits for a vote", id="approvals-table")
        yield Static(id="approval-detail")

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    @property
    def selected(self) -> ApprovalView | None:
        key = self.table.cursor_key
        return self.items.get(key) if key else None

    def _proposal(self) -> tuple[int, str] | None:
        """The selected row's proposal id and text when it is a Quorum proposal; else
        says why there is nothing to act on."""
        item = self.selected
        if item is None:
            self.notify("no proposal selected", markup=False)
            return None
        if item.proposal_id is None:
            where = neutralise(item.provider or "its provider")
            what = neutralise(item.what)
            self.notify(f"{what} is answered in {where}, not in Quorum", markup=False)
            return None
        return item.proposal_id, item.what

    def action_propose(self) -> None:
        self.post_message(self.ProposeRequested())

    def action_approve(self) -> None:
        self._vote(True)

    def action_reject(self) -> None:
        self._vote(False)

    def _vote(self, approve: bool) -> None:
        item = self.selected
        if item is not None and item.approval_id:
            self.post_message(self.ProviderVoteRequested(item.approval_id, approve))
        elif chosen := self._proposal():
            self.post_message(self.VoteRequested(chosen[0], approve, self.selected.version))

    def action_override(self) -> None:
        if chosen := self._proposal():
            self.post_message(self.OverrideRequested(*chosen))

    def action_review(self) -> None:
        item = self.selected
        if item is None or not item.awaiting_review:
            item = next((i for i in self.items.values() if i.awaiting_review), None)
        if item is None or item.proposal_id is None:
            self.notify("no override waits for review", markup=False)
            return
        self.post_message(self.ReviewRequested(item.proposal_id, item.what))

    def reveal(self, key: str) -> None:
        """Select `key` now, or as soon as a refresh shows it: after `n`, the detail is
        the new proposal's, wherever the cursor was."""
        self._wanted = key
        if key in self.items:
            self._select_wanted()

    def _select_wanted(self) -> None:
        if self._wanted is not None and self.table.select(self._wanted):
            self._wanted = self._placed = None

    def show(self, items: Sequence[ApprovalView]) -> None:
        """`items` in the order given (waiting first, newest first, then settled): the
        console owns the order; settled rows are dimmed. Until the person moves the
        cursor, it stays on the first row: the newest of what waits for someone."""
        untouched = self.table.cursor_key in (None, self._placed)
        self.items = {item.key: item for item in items}
        now = self.now()
        built = {}
        for item in items:
            was = self._rows.get(item.key)
            label = age(now, item.created_at)
            if was is None or was[0] != item:
                cells = self._cells(item, label)
            elif was[1][-1].plain != label:
                cells = (*was[1][:-1], Text(label))
            else:
                cells = was[1]
            built[item.key] = (item, cells)
        self._rows = built
        rows = [(key, cells) for key, (_, cells) in built.items()]
        waiting = sum(1 for i in items if i.state in ("open", "blocked", "pending"))
        review = sum(1 for i in items if i.awaiting_review)
        extra = f" · {count(review, 'emergency override')} to review" if review else ""
        self.set_title(f"approvals ({waiting} waiting){extra}")
        self.table.set_rows(rows, dim={item.key for item in items if item.settled})
        if untouched and items:
            self._placed = items[0].key
            self.table.select(self._placed)
        self._select_wanted()
        self.show_detail()
        self._fit_detail()

    def on_resize(self) -> None:
        self._fit_detail()

    def _fit_detail(self) -> None:
        """The selected proposal's detail takes the lines the rows leave, and never less
        than 40% of the pane: with a few proposals every vote of the selected one shows
        (at 80x24 a fixed share cut them off under its outcome), with many the rows keep
        the rest. Set only when it changes: the same rows redrawn lay nothing out."""
        inner = self.content_size.height
        if inner <= 0:
            return
        rows = len(self.items) + 1  # and the header
        room = max(inner - rows, (inner * 2 + 4) // 5)
        if room != self._detail_room:
            self._detail_room = room
            self.query_one("#approval-detail", Static).styles.max_height = room

    @staticmethod
    def _cells(item: ApprovalView, age_label: str) -> tuple[Text, ...]:
        """One row's cells; the age comes last, so a redraw for the ages replaces it alone."""
        approvals = sum(1 for v in item.votes if v.approve and v.counted)
        rejections = sum(1 for v in item.votes if not v.approve and v.counted)
        what = Text(neutralise(item.what), style="bold")
        if item.awaiting_review:
            what.append(" ⚑ review", style="magenta")
        return (
            Text(str(item.proposal_id or "-"), style="dim"),
            what,
            Text(neutralise(item.proposer)),
            Text(neutralise(item.state), style=STATE_STYLES.get(item.state, "")),
            Text(f"+{approvals} -{rejections}"),
            Text(neutralise(item.summary), style="yellow"),
            Text(age_label),
        )

    def show_detail(self) -> None:
        detail = self.query_one("#approval-detail", Static)
        item = self.selected
        detail.display = item is not None
        if item is None:
            return
        text = Text()
        text.append(neutralise(item.what), style="bold")
        text.append(f"  {neutralise(item.summary)}", style="yellow")
        for vote in item.votes:
            text.append("\n  ")
            text.append(
                "✔ approve" if vote.approve else "✘ reject ",
                style=("green" if vote.approve else "red"),
            )
            text.append(f" {neutralise(vote.voter)}", style="bold")
            text.append(f" {vote.at:%Y-%m-%d %H:%M}", style="dim")
            if not vote.counted:
                text.append(" (no longer counts)", style="dim italic")
            if vote.comment:
                text.append(f"  “{neutralise(vote.comment)}”")
        if not item.votes:
            text.append("\n  no votes yet", style="dim italic")
        for note in item.notes:
            text.append("\n  ")
            text.append(neutralise(note), style="magenta")
        detail.update(text)

    def on_keyed_table_cursor_moved(self, event: KeyedTable.CursorMoved) -> None:
        event.stop()
        self.show_detail()
