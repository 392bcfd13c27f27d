"""The Audit pane: the newest audit records, live, with a filter and `v` to verify.

Records arrive from the app (it reads the log); the pane keeps a bounded window of
them keyed by sequence number, so a new record adds one row and repaints nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message

from console.domain.inert import neutralise
from widgets.base.filtering import compile_filter
from widgets.base.format import OUTCOME_STYLES
from widgets.base.pane import Pane
from widgets.base.table import Column, KeyedTable

KEEP = 500
# Widest first. A narrow pane (the right-hand column at 120x40) has about 30 cells, so
# TIME, WHO and ACTION stay whole and the rest gives way: first the columns (the
# table drops them by priority), then the seconds of TIME, then the `rotation.` of
# an action's name is shortened to `rot.`; the filter still matches the full name.
COLUMNS = [
    Column("seq", "SEQ", 5, justify="right", priority=3),
    Column("ts", "TIME", 8),
    Column("who", "WHO", 8),
    Column("action", "ACTION", 14),
    Column("target", "TARGET", 40, priority=1, fit=True),
    Column("environment", "ENV", 12, priority=2, fit=True),
    Column("revision", "REV", 16, priority=2, fit=True),
    Column("outcome", "OUTCOME", 9, priority=1),
    Column("comment", "COMMENT", 10, flex=True, priority=3),
]
SHORT_PREFIXES = (("rotation.", "rot."),)


def short_action(action: str) -> str:
    """An action's name in the fewest cells that still read as it."""
    for long, short in SHORT_PREFIXES:
        if action.startswith(long):
            return short + action.removeprefix(long)
    return action


def fitted(records: Sequence[Record], width: int) -> tuple[list[Column], bool, bool]:
    """The columns for `width` cells, and whether TIME drops its seconds and actions are
    shortened: WHO and ACTION as wide as their longest value, so neither is cut."""
    who = max((len(r.who) for r in records), default=3)
    longest = max((len(r.action) for r in records), default=6)
    shortest = max((len(short_action(r.action)) for r in records), default=6)
    columns = {c.key: c for c in COLUMNS}
    columns["who"] = replace(columns["who"], width=min(max(who, 3), 12))
    essential = columns["who"].width + 2  # the two spaces between the three columns
    seconds = essential + 8 + longest <= width
    short = not seconds and essential + 5 + longest > width
    columns["ts"] = replace(columns["ts"], width=8 if seconds else 5)
    columns["action"] = replace(columns["action"], width=max(shortest if short else longest, 6))
    return list(columns.values()), seconds, short


class Record(Protocol):
    """What the pane reads of an audit record (console.store.audit.AuditRecord fits)."""

    seq: int
    ts: object
    who: str
    action: str
    target: str
    environment: str
    revision: str
    outcome: str
    comment: str
    key: str
    prev_hash: str
    hash: str


class AuditPane(Pane):
    """Recent audit records, newest first; `v` verifies the chain."""

    TITLE = "audit"
    COMMAND = "audit"
    ALIASES = ("log-audit", "aud")

    # Enter opens the record under the cursor, whole; `f` still zooms the pane.
    BINDINGS = [
        Binding("enter", "open_record", "Open record"),
        Binding("v", "verify", "Verify chain"),
    ]

    class VerifyRequested(Message):
        """The user asked to verify the chain; the app runs it and reports."""

    class RecordRequested(Message):
        """Enter on a row: the app shows that record with every field."""

        def __init__(self, seq: int) -> None:
            super().__init__()
            self.seq = seq

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.records: dict[int, Record] = {}
        self.filter_text = ""
        self.verdict = ""
        # The row the pane itself put the cursor on: until the person moves it, the
        # cursor stays on the newest record as new ones arrive above it.
        self._placed: str | None = None
        # Each shown record's cells as last built, by sequence number, with the record and
        # the time and action forms they were built for: a new record builds its own row.
        self._rows: dict[int, tuple[Record, bool, bool, tuple[Text, ...]]] = {}

    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, empty_text="no audit records yet", id="audit-table")

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    @property
    def last_seq(self) -> int:
        return max(self.records, default=0)

    def add(self, records: Sequence[Record]) -> None:
        """Add records (any order, duplicates ignored); only the newest KEEP stay."""
        for record in records:
            self.records[record.seq] = record
        for seq in sorted(self.records)[:-KEEP]:
            del self.records[seq]
        self.render_rows()

    def set_filter(self, text: str) -> None:
        """Filter the rows by `text` (a regex); an invalid one raises FilterError and
        leaves the filter as it was."""
        compile_filter(text)
        self.filter_text = text
        self.render_rows()

    def set_verdict(self, text: str) -> None:
        self.verdict = text
        self.set_status(text)

    def visible(self) -> list[Record]:
        pattern = compile_filter(self.filter_text)
        rows = sorted(self.records.values(), key=lambda r: r.seq, reverse=True)
        if pattern is not None:
            rows = [r for r in rows if pattern.search(self._haystack(r))]
        return rows

    @staticmethod
    def _haystack(r: Record) -> str:
        return " ".join(
            (r.who, r.action, r.target, r.environment, r.revision, r.outcome, r.comment)
        )

    def on_resize(self, event: events.Resize) -> None:
        self.render_rows()

    @staticmethod
    def _cells(r: Record, seconds: bool, short: bool) -> tuple[Text, ...]:
        when = (
            r.ts.strftime("%H:%M:%S" if seconds else "%H:%M")
            if hasattr(r.ts, "strftime")
            else str(r.ts)
        )
        action = short_action(r.action) if short else r.action
        return (
            Text(str(r.seq), style="dim"),
            Text(when),
            Text(neutralise(r.who)),
            Text(neutralise(action), style="bold"),
            Text(neutralise(r.target)),
            Text(neutralise(r.environment)),
            Text(neutralise(r.revision)),
            Text(neutralise(r.outcome), style=OUTCOME_STYLES.get(r.outcome, "")),
            Text(neutralise(r.comment), style="dim"),
        )

    def render_rows(self) -> None:
        shown = self.visible()
        # Room for a scrollbar is kept whenever the rows may need one.
        width = self.table.size.width - (2 if len(shown) >= self.table.size.height else 0)
        columns, seconds, short = fitted(shown, width)
        self.table.set_columns(columns)
        built = {}
        for r in shown:
            was = self._rows.get(r.seq)
            if was is not None and was[:3] == (r, seconds, short):
                built[r.seq] = was
            else:
                built[r.seq] = (r, seconds, short, self._cells(r, seconds, short))
        self._rows = built
        rows = [(str(seq), row[3]) for seq, row in built.items()]
        extra = f" [/{self.filter_text}]" if self.filter_text else ""
        self.set_title(f"audit ({len(rows)}){extra}")
        untouched = self.table.cursor_key in (None, self._placed)
        self.table.set_rows(rows)
        if untouched and rows:
            self._placed = rows[0][0]
            self.table.select(self._placed)

    def action_open_record(self) -> None:
        key = self.table.cursor_key
        if key is None:
            self.notify("no audit record selected", markup=False)
            return
        self.post_message(self.RecordRequested(int(key)))

    def action_verify(self) -> None:
        self.post_message(self.VerifyRequested())
