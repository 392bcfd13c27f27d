"""The `d` describe screen: one target's row, its pods and its recent events (k9s `d`).

Every cell is a Rich `Text` built from neutralised backend text, never markup, so a pod
name or an event message cannot fake a piece of the screen or drive the terminal.
Waiting reasons and Warning events are highlighted because they are why one looks.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.domain.inert import neutralise
from console.domain.model import TargetDetails
from widgets.base.format import STATUS_STYLES, age

# Reasons a container is stuck rather than starting: what the operator came to see.
BAD_REASONS = frozenset(
    {
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "CreateContainerConfigError",
        "CreateContainerError",
        "InvalidImageName",
        "OOMKilled",
        "Error",
    }
)


def _cell(value: object, style: str = "") -> Text:
    return Text(neutralise("" if value is None else str(value)), style=style)


def _table(*headers: str, whole: dict[str, int] | None = None, wraps: str = "") -> Table:
    """Columns in `whole` (names, reasons: header → longest value) are never wrapped or
    cut: a pod name folded over two lines reads as two pods. The `wraps` column takes
    the rest and folds; the others are cut with an ellipsis when the dialog is narrow."""
    whole = whole or {}
    table = Table(box=None, show_header=True, header_style="bold", expand=True)
    for header in headers:
        if header in whole:
            table.add_column(header, no_wrap=True, min_width=max(whole[header], len(header)))
        elif header == wraps:
            table.add_column(header, overflow="fold", ratio=1)
        else:
            table.add_column(header, no_wrap=True, overflow="ellipsis")
    return table


def _longest(values: Iterable[object]) -> int:
    return max((cell_len(neutralise(str(v))) for v in values if v), default=0)


class DetailsScreen(ModalScreen[None]):
    """A scrollable description of one target; Esc, q or d closes it.

    The app keeps one instance and refills it for each `d` (`show`): Textual caches a
    widget's rendered lines keyed by the widget, so a new screen per `d` kept about
    0.2 MiB alive every time one was opened and closed.
    """

    BINDINGS = [Binding("escape,q,d", "close", "Close")]

    def __init__(self, details: TargetDetails, now: datetime) -> None:
        super().__init__()
        self.details = details
        self.now = now

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help details") as box:
            box.border_title = self._title()
            box.border_subtitle = Text("↑↓ scroll · Esc closes")  # as every dialog says
            yield Static(self._summary(), id="details-target")
            yield Static(Text("pods", style="bold underline"), classes="dialog-note")
            yield Static(self._pods(), id="details-pods")
            yield Static(Text("events", style="bold underline"), classes="dialog-note")
            yield Static(self._events(), id="details-events")

    def show(self, details: TargetDetails, now: datetime) -> None:
        """New content for the next time this screen is on screen, scrolled to its top."""
        self.details = details
        self.now = now
        if self.is_mounted:
            box = self.query_one(VerticalScroll)
            box.border_title = self._title()
            box.scroll_home(animate=False)
            self.query_one("#details-target", Static).update(self._summary())
            self.query_one("#details-pods", Static).update(self._pods())
            self.query_one("#details-events", Static).update(self._events())

    def _title(self) -> Text:
        ref = self.details.target.ref
        return Text(f"describe · {neutralise(f'{ref.service}@{ref.environment}')}")

    def _summary(self) -> Table:
        t = self.details.target
        table = Table(box=None, show_header=False, expand=False)
        table.add_column(style="cyan")
        table.add_column()
        rows = [
            ("target", _cell(f"{t.ref.service}@{t.ref.environment}", "bold")),
            ("provider", _cell(t.ref.provider)),
            ("object", _cell(t.ref.target)),
            ("revision", _cell(t.revision)),
            ("status", _cell(t.status.value, STATUS_STYLES.get(t.status, ""))),
            ("ready", _cell(f"{t.ready}/{t.desired}")),
            ("message", _cell(t.message or "-")),
        ]
        for label, value in rows:
            table.add_row(label, value)
        return table

    def _pods(self) -> Table | Text:
        if not self.details.pods:
            return Text("no pods", style="dim")
        table = _table(
            "NAME",
            "PHASE",
            "READY",
            "RESTARTS",
            "REASON",
            "NODE",
            "AGE",
            whole={
                "NAME": _longest(p.name for p in self.details.pods),
                "REASON": _longest(p.reason for p in self.details.pods),
            },
        )
        for pod in self.details.pods:
            bad = pod.reason in BAD_REASONS
            table.add_row(
                _cell(pod.name),
                _cell(pod.phase, "" if pod.phase == "Running" else "yellow"),
                _cell("yes" if pod.ready else "no", "green" if pod.ready else "yellow"),
                _cell(pod.restarts, "bold yellow" if pod.restarts else ""),
                _cell(pod.reason or "-", "bold white on red" if bad else ""),
                _cell(pod.node or "-"),
                _cell(age(self.now, pod.started_at)),
            )
        return table

    def _events(self) -> Table | Text:
        if not self.details.events:
            return Text("no recent events", style="dim")
        table = _table(
            "AGE",
            "TYPE",
            "REASON",
            "MESSAGE",
            "COUNT",
            "SOURCE",
            whole={"REASON": _longest(e.reason for e in self.details.events)},
            wraps="MESSAGE",
        )
        for event in self.details.events:
            warning = event.type == "Warning"
            table.add_row(
                _cell(age(self.now, event.at)),
                _cell(event.type, "bold yellow" if warning else ""),
                _cell(event.reason, "yellow" if warning else ""),
                _cell(event.message),
                _cell(event.count),
                _cell(event.source or "-"),
            )
        return table

    def action_close(self) -> None:
        self.dismiss(None)
