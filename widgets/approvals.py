"""The Approvals pane: proposals with their votes and what each still needs.

The table lists open and recent proposals (and approvals a backend holds itself);
the detail under it shows the selected one's votes (who, approve or reject, the
comment, when) and the requirement line ("needs 1 more approval; rejections 1 of
2 to block"). Every decision is the app's: the pane only asks for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from console.domain.inert import neutralise
from widgets.pane import Pane
from widgets.services import age
from widgets.table import Column, KeyedTable

STATE_STYLES = {
    "open": "cyan",
    "approved": "green",
    "executed": "green",
    "blocked": "bold red",
    "failed": "bold red",
    "expired": "dim",
    "withdrawn": "dim",
    "pending": "yellow",
}
COLUMNS = [
    Column("id", "ID", 4, justify="right"),
    Column("what", "CHANGE", 24, flex=True),
    Column("by", "BY", 8, priority=1),
    Column("state", "STATE", 9),
    Column("votes", "VOTES", 5),
    Column("needs", "NEEDS", 22, flex=True, priority=2),
    Column("age", "AGE", 4, justify="right", priority=1),
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
    notes: tuple[str, ...] = ()  # override, review, execution detail
    proposal_id: int | None = None
    awaiting_review: bool = False


class ApprovalsPane(Pane):
    """Proposals and their votes; n new, a approve, x reject, o override, R review."""

    TITLE = "approvals"
    COMMAND = "approvals"
    ALIASES = ("apr", "approval", "proposals", "pr")
    MUTATING = frozenset({"new", "approve", "reject", "override", "review"})

    BINDINGS = [
        Binding("n", "request('new')", "New proposal"),
        Binding("a", "request('approve')", "Approve"),
        Binding("x", "request('reject')", "Reject"),
        Binding("o", "request('override')", "Override"),
        Binding("R", "request('review')", "Review override"),
    ]

    def __init__(
        self, now: Callable[[], datetime], *, empty: str = "", id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.now = now
        self.items: dict[str, ApprovalView] = {}
        self.empty = empty or "no proposal waits for a vote"

    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, empty_text=self.empty, id="approvals-table")
        yield Static(id="approval-detail")

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    @property
    def selected(self) -> ApprovalView | None:
        key = self.table.cursor_key
        return self.items.get(key) if key else None

    def set_empty(self, text: str) -> None:
        self.empty = text
        self.table.empty_text = text
        self.table.refresh()

    def show(self, items: Sequence[ApprovalView]) -> None:
        self.items = {item.key: item for item in items}
        now = self.now()
        rows = []
        for item in items:
            approvals = sum(1 for v in item.votes if v.approve and v.counted)
            rejections = sum(1 for v in item.votes if not v.approve and v.counted)
            what = Text(neutralise(item.what), style="bold")
            if item.awaiting_review:
                what.append(" ⚑ review", style="magenta")
            rows.append(
                (
                    item.key,
                    (
                        Text(str(item.proposal_id or "-"), style="dim"),
                        what,
                        Text(neutralise(item.proposer)),
                        Text(neutralise(item.state), style=STATE_STYLES.get(item.state, "")),
                        Text(f"+{approvals} -{rejections}"),
                        Text(neutralise(item.summary), style="yellow"),
                        Text(age(now, item.created_at)),
                    ),
                )
            )
        waiting = sum(1 for i in items if i.state in ("open", "blocked", "pending"))
        review = sum(1 for i in items if i.awaiting_review)
        extra = f" · {review} override(s) to review" if review else ""
        self.set_title(f"approvals ({waiting} waiting){extra}")
        self.table.set_rows(rows)
        self.show_detail()

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
