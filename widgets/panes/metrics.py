"""The Metrics pane: CPU, memory, error rate and p99 of the selected target as bar plots.

Each plot draws the warning and critical thresholds as dashed lines across the
plot, so an on-call engineer sees how close a metric runs to alerting, not only
its current value; bars take the colour of the level their value reaches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Grid
from textual.geometry import Region
from textual.widget import Widget
from textual.worker import Worker

from console.domain.inert import neutralise
from console.domain.model import CPU, ERROR_RATE, MEMORY, P99, Health, Series
from console.domain.thresholds import Thresholds
from widgets.base.format import LEVEL_STYLES
from widgets.base.pane import Pane

BLOCKS = " ▁▂▃▄▅▆▇█"
SHOWN = (CPU, MEMORY, ERROR_RATE, P99)
SHORT = {CPU: "CPU%", MEMORY: "MEM%", ERROR_RATE: "ERR%", P99: "p99ms"}


def resample(values: Sequence[float], width: int) -> list[float]:
    """`values` fitted to `width` columns: the newest `width` points, or buckets' maxima.

    Maxima, not means, so a short spike past a threshold stays visible when squeezed.
    """
    if width <= 0 or not values:
        return []
    if len(values) <= width:
        return list(values)
    out = []
    for i in range(width):
        start = i * len(values) // width
        end = max((i + 1) * len(values) // width, start + 1)
        out.append(max(values[start:end]))
    return out


def reading(value: float | None) -> str:
    """A latest value as the header shows it: a decimal below 100, whole numbers above
    (a p99 of 1315 ms needs no tenths, and the room goes to the thresholds)."""
    if value is None:
        return "-"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}"


def header(
    name: str, latest: float | None, level: Health, levels: tuple[float, float] | None, width: int
) -> list[Text]:
    """The plot's name, latest value and thresholds, on one line when they fit whole,
    else the thresholds on a second line: a threshold is never cut to a stray digit."""
    head = Text(f"{SHORT.get(name, name)} ", style="bold")
    head.append(reading(latest), style=LEVEL_STYLES[level])
    if not levels:
        return [head]
    warn, crit = f"{levels[0]:g}", f"{levels[1]:g}"
    for words in (("warn ", "crit "), ("", "")):
        limits = Text(f"┄{words[0]}{warn}", style="yellow")
        limits.append(f" ┄{words[1]}{crit}", style="red")
        if head.cell_len + 1 + limits.cell_len <= width:
            return [Text.assemble(head, " ", limits)]
    return [head, limits]


def plot(
    name: str, values: Sequence[float], levels: tuple[float, float] | None, width: int, height: int
) -> Text:
    """Header lines and then rows of bars with the threshold lines drawn in."""
    thresholds = Thresholds({name: levels} if levels else {})
    latest = values[-1] if values else None
    lines = header(name, latest, thresholds.classify(name, latest), levels, width)
    if len(lines) > 1 and height < 4:
        lines = [Text.assemble(lines[0], " ", lines[1])]  # too low for two: cut instead
    out = Text(no_wrap=True, end="")
    for n, line in enumerate(lines):
        line.truncate(width)
        if n:
            out.append("\n")
        out.append_text(line)
    rows = max(height - len(lines), 1)
    points = resample(values, width)
    top = max([*points, (levels[1] * 1.15) if levels else 0.0, 1e-9])
    warn_row = _row_of(levels[0], top, rows) if levels else None
    crit_row = _row_of(levels[1], top, rows) if levels else None
    styles = [
        LEVEL_STYLES[thresholds.classify(name, value)] if levels else "cyan" for value in points
    ]
    for r in range(rows - 1, -1, -1):  # top row first
        out.append("\n")
        line_style = "red" if r == crit_row else "yellow" if r == warn_row else ""
        # Cells of one style go in as one run: a span per run, not per cell, keeps a
        # redraw cheap (four plots are redrawn whenever the pane is).
        run: list[str] = []
        run_style = line_style
        for x in range(width):
            if x >= len(points):
                char, style = ("┄" if line_style else " "), line_style
            else:
                fill = min(max(round(points[x] / top * rows * 8) - r * 8, 0), 8)
                if fill == 0 and line_style:
                    char, style = "┄", line_style
                else:
                    char, style = BLOCKS[fill], styles[x]
            if style != run_style and run:
                out.append("".join(run), style=run_style)
                run = []
            run_style = style
            run.append(char)
        if run:
            out.append("".join(run), style=run_style)
    return out


def _row_of(value: float, top: float, rows: int) -> int:
    return min(int(value / top * rows), rows - 1)


class MetricChart(Widget):
    """One metric's plot, sized to whatever room the layout gives it."""

    DEFAULT_CSS = "MetricChart { height: 1fr; min-height: 2; }"

    def __init__(self, metric: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.metric = metric
        self.values: list[float] = []
        self.levels: tuple[float, float] | None = None

    def show(self, values: Sequence[float], levels: tuple[float, float] | None) -> None:
        """Plot new data, repainting only the rows it changes: a new sample moves the
        bars, while the rows above them and the threshold lines mostly stay the same."""
        if list(values) == self.values and levels == self.levels:
            return
        before = self.render().split("\n", allow_blank=True)
        self.values, self.levels = list(values), levels
        after = self.render().split("\n", allow_blank=True)
        width = self.content_region.width
        if len(before) != len(after) or not width:
            self.refresh()
            return
        for y, (old, new) in enumerate(zip(before, after, strict=True)):
            if old != new:
                self.refresh(Region(0, y, width, 1))

    def render(self) -> Text:
        size = self.content_region.size
        key = (tuple(self.values), self.levels, size)
        if getattr(self, "_plotted", (None,))[0] != key:  # a layout pass redraws, same data
            self._plotted = (key, plot(self.metric, self.values, self.levels, *size))
        return self._plotted[1]


class MetricsPane(Pane, can_focus=True):
    """The selected target's metrics, refreshed by a worker owned by this pane."""

    TITLE = "metrics"
    COMMAND = "metrics"
    ALIASES = ("metric", "m")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.subject = ""
        self.series: dict[str, Series] = {}
        self.fetches = 0

    def compose(self) -> ComposeResult:
        with Grid(id="metric-grid"):
            for name in SHOWN:
                yield MetricChart(name, id=f"chart-{name}")

    def on_resize(self, event: events.Resize) -> None:
        """Two plots a row, unless the pane is narrow and tall enough to stack them with
        five rows or more each (height shows thresholds better than width)."""
        grid = self.query_one("#metric-grid", Grid)
        width, height = event.size
        stack = width < 64 and height >= 4 * 5 + 2
        grid.styles.grid_size_columns = 1 if stack else 2

    def watch(
        self,
        subject: str,
        fetch: Callable[[], Awaitable[list[Series]]] | None,
        thresholds: Thresholds,
        interval: float = 5.0,
    ) -> Worker | None:
        """Poll `fetch` every `interval` seconds (after each answer) until replaced."""
        self.subject = subject
        self.workers.cancel_group(self, "metrics")
        self.series = {}
        for chart in self.query(MetricChart):
            chart.show([], thresholds.levels.get(chart.metric))
        if fetch is None:
            self.set_title(f"metrics {subject} · this provider has no metrics")
            return None
        self.set_title(f"metrics {subject}")
        return self.run_worker(
            partial(self._poll, fetch, thresholds, interval),  # see LogPane.follow
            group="metrics",
            exclusive=True,
            exit_on_error=False,
            name=f"metrics:{subject}",
        )

    async def _poll(
        self,
        fetch: Callable[[], Awaitable[list[Series]]],
        thresholds: Thresholds,
        interval: float,
    ) -> None:
        while True:
            try:
                series = await fetch()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # shown on the pane; the last plots stay
                self.set_status(f"stale: {neutralise(str(exc))}")
            else:
                self.show(series, thresholds)
                self.set_status("")
            await asyncio.sleep(interval)

    def show(self, series: Sequence[Series], thresholds: Thresholds) -> None:
        self.fetches += 1
        self.series = {s.name: s for s in series}
        for chart in self.query(MetricChart):
            found = self.series.get(chart.metric)
            values = [v for _, v in found.points] if found else []
            chart.show(values, thresholds.levels.get(chart.metric))
