"""The Services pane: every target of every provider, sortable and filterable.

It renders rows the app hands it (plain model objects), keeps its own sort, filter
and scope, and posts which target is selected; it never talks to a backend.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message

from console.domain.inert import neutralise
from console.domain.model import CPU, ERROR_RATE, MEMORY, P99, Health, RolloutStatus, Target
from console.domain.sites import provider_label
from widgets.base.filtering import compile_filter
from widgets.base.format import HEALTH_STYLES, STATUS_STYLES, age
from widgets.base.pane import Pane
from widgets.base.table import Column, KeyedTable

# Worst first, so sorting by status puts what needs attention on top.
STATUS_ORDER = [
    RolloutStatus.FAILED,
    RolloutStatus.DEGRADED,
    RolloutStatus.PROGRESSING,
    RolloutStatus.PAUSED,
    RolloutStatus.UNKNOWN,
    RolloutStatus.READY,
]
STALE_MARK = "⚠"

# Names and revisions as wide as the longest shown (up to a bound), so at 80 columns a
# revision is not cut for room a short service name leaves unused. STATUS and HEALTH
# keep fixed widths: they change with every rollout, and a fitted width that changes
# repaints every row, not the one that changed.
COLUMNS = [
    Column("service", "SERVICE", 20, fit=True),
    Column("environment", "ENV", 12, fit=True),
    Column("provider", "PROVIDER", 12, fit=True),
    Column("revision", "REVISION", 14, fit=True),
    Column("status", "STATUS", 11),
    Column("ready", "READY", 5, justify="right"),
    Column("age", "AGE", 4, justify="right"),
    Column("health", "HEALTH", 8),
    Column("cpu", "CPU%", 5, priority=2, justify="right"),
    Column("memory", "MEM%", 5, priority=2, justify="right"),
    Column("errors", "ERR%", 5, priority=2, justify="right"),
    Column("p99", "P99ms", 6, priority=2, justify="right"),
    Column("message", "MESSAGE", 8, flex=True, priority=3),
]
VERDICT_STYLES = {"promote": "green", "roll back": "red", "wait": "yellow"}
SORTS = {"name": "service", "status": "status", "age": "age"}
# The footer shows the three sorts as one entry, `N/S/A Sort`; the help lists each.
SORT = Binding.Group("Sort")


@dataclass(frozen=True)
class ServiceView:
    """One row as the console hands it over: the target, its health, the level of each
    metric it reports (both from the service's thresholds, applied once in
    console.tui.views) and staleness."""

    target: Target
    health: Health
    stale: bool = False
    levels: Mapping[str, Health] = field(default_factory=dict)
    # The firing alerts naming this service here, most severe first (names only).
    alerts: tuple[str, ...] = ()
    # A site row's platforms (console.domain.sites), the serving one first; empty for
    # any other row.
    platforms: tuple[str, ...] = ()
    live: str = ""  # the platform serving a site row now; "" when none does
    # A canary's verdict in one line (console.domain.canary), and the verdict alone.
    canary: str = ""
    verdict: str = ""

    @property
    def key(self) -> str:
        return self.target.ref.key


def _health(view: ServiceView) -> Text:
    """The health word, or `🔔alert` in its colour while an alert names the row (which
    alert is said in MESSAGE and on the alerts strip; 80 columns leave no room here)."""
    word = "🔔alert" if view.alerts else str(view.health)
    return Text(word, style=HEALTH_STYLES.get(view.health, ""))


def _message(view: ServiceView) -> Text:
    """The row's message, after the alerts that name its service (they matter more)."""
    text = Text(neutralise(view.target.message), style="dim")
    if view.canary:
        style = VERDICT_STYLES.get(view.verdict, "yellow")
        text = Text.assemble((f"{neutralise(view.canary)} ", f"bold {style}"), text)
    if view.alerts:
        text = Text.assemble((f"🔔 {neutralise(', '.join(view.alerts))} ", "bold red"), text)
    return text


def _provider(view: ServiceView) -> str:
    """The provider, or for a site row the platform that serves it and how many stand by
    (`vercel+2`)."""
    return provider_label(view.target.ref.provider, view.live, len(view.platforms))


def _metric(view: ServiceView, name: str, fmt: str) -> Text:
    value = view.target.metrics.get(name)
    if value is None:
        return Text("-", style="dim")
    level = view.levels.get(name, Health.UNKNOWN)
    return Text(format(value, fmt), style=HEALTH_STYLES.get(level, ""))


class ServicesPane(Pane):
    """Services across providers; Shift-N/S/A sort, `/` filters, the cursor selects,
    `r`/`s` restart/scale, `d` describes the selected target and `c` acts on its
    canary's verdict."""

    TITLE = "services"
    COMMAND = "svc"
    ALIASES = ("services", "service", "deploy")

    BINDINGS = [
        Binding("N", "sort('name')", "Sort name", group=SORT),
        Binding("S", "sort('status')", "Sort status", group=SORT),
        Binding("A", "sort('age')", "Sort age", group=SORT),
        Binding("l", "app.show_logs", "Logs"),
        Binding("m", "app.show_pane('metrics')", "Metrics"),
        # k9s habits; the app checks the provider and the backend's access review first.
        Binding("r", "app.restart", "Restart"),
        Binding("s", "app.scale", "Scale"),
        Binding("d", "app.describe", "Describe"),
        # Acts on the row's canary verdict (promote or roll back, through the policy); kept
        # out of the footer, where most rows have no canary: the help lists it.
        Binding("c", "app.canary", "Canary", show=False),
    ]

    class Selected(Message):
        """The selected target changed (its key, or None when nothing is shown)."""

        def __init__(self, key: str | None) -> None:
            super().__init__()
            self.key = key

    def __init__(self, now: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.now = now
        self.views: dict[str, ServiceView] = {}
        self.sort_by = "name"
        self.reverse = False
        self.filter_text = ""
        self.environment: str | None = None
        self.provider: str | None = None

    def compose(self) -> ComposeResult:
        yield KeyedTable(
            COLUMNS,
            empty_text="no targets yet: waiting for the first poll of each provider",
            id="services-table",
        )

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    @property
    def selected(self) -> ServiceView | None:
        key = self.table.cursor_key
        return self.views.get(key) if key else None

    def update_views(self, views: Sequence[ServiceView]) -> int:
        """Replace the data; only rows whose cells changed are repainted."""
        self.views = {v.target.ref.key: v for v in views}
        return self.render_rows()

    def set_scope(self, environment: str | None, provider: str | None) -> None:
        self.environment, self.provider = environment, provider
        self.render_rows()

    def set_filter(self, text: str) -> None:
        """Filter the rows by `text` (a regex); an invalid one raises FilterError and
        leaves the filter as it was."""
        compile_filter(text)
        self.filter_text = text
        self.render_rows()

    def action_sort(self, by: str) -> None:
        """Sort by a column; the same key again reverses (as in k9s)."""
        if self.sort_by == by:
            self.reverse = not self.reverse
        else:
            self.sort_by, self.reverse = by, False
        self.render_rows()

    def visible(self) -> list[ServiceView]:
        """The rows shown, in order: scope, then filter, then sort."""
        pattern = compile_filter(self.filter_text)
        rows = [
            v
            for v in self.views.values()
            if (self.environment is None or v.target.ref.environment == self.environment)
            and (self.provider is None or v.target.ref.provider == self.provider)
        ]
        if pattern is not None:
            rows = [v for v in rows if pattern.search(self._haystack(v))]
        rows.sort(key=self._sort_key, reverse=self.reverse)
        return rows

    @staticmethod
    def _haystack(view: ServiceView) -> str:
        t = view.target
        return " ".join(
            (t.ref.service, t.ref.environment, t.ref.provider, t.revision, t.status, view.health,
             *view.platforms)
        )  # fmt: skip

    def _sort_key(self, view: ServiceView) -> tuple:
        t = view.target
        name = (t.ref.service, t.ref.environment, t.ref.provider)
        if self.sort_by == "status":
            return (STATUS_ORDER.index(t.status), *name)
        if self.sort_by == "age":
            stamp = t.updated_at.timestamp() if t.updated_at else 0.0
            return (-stamp, *name)  # newest first
        return name

    def render_rows(self) -> int:
        now = self.now()
        rows = []
        dim = set()
        for view in self.visible():
            key = view.target.ref.key
            rows.append((key, self._cells(view, now)))
            if view.stale:
                dim.add(key)
        arrow = "↓" if not self.reverse else "↑"
        scope = []
        if self.environment:
            scope.append(f"env={self.environment}")
        if self.provider:
            scope.append(f"provider={self.provider}")
        if self.filter_text:
            scope.append(f"/{self.filter_text}")
        extra = f" [{' '.join(scope)}]" if scope else ""
        self.set_title(
            f"services ({len(rows)}/{len(self.views)}){extra} · sort {self.sort_by}{arrow}"
        )
        return self.table.set_rows(rows, dim)

    def _cells(self, view: ServiceView, now: datetime) -> tuple[Text, ...]:
        t = view.target
        provider = _provider(view) + (f" {STALE_MARK}" if view.stale else "")
        ready_style = "" if t.ready >= t.desired else "yellow"
        return (
            Text(neutralise(t.ref.service), style="bold"),
            Text(neutralise(t.ref.environment)),
            Text(neutralise(provider), style="yellow" if view.stale else ""),
            Text(neutralise(t.revision)),
            Text(str(t.status), style=STATUS_STYLES.get(t.status, "")),
            Text(f"{t.ready}/{t.desired}", style=ready_style),
            Text(age(now, t.updated_at)),
            _health(view),
            _metric(view, CPU, ".0f"),
            _metric(view, MEMORY, ".0f"),
            _metric(view, ERROR_RATE, ".1f"),
            _metric(view, P99, ".0f"),
            _message(view),
        )

    def on_keyed_table_cursor_moved(self, event: KeyedTable.CursorMoved) -> None:
        event.stop()
        self.post_message(self.Selected(event.key))
