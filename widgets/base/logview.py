"""A log view that stays responsive under a flood and bounded in memory.

Lines arrive into a pending buffer and are moved onto the screen by a timer at
15 Hz, so a backend writing 20,000 lines a second costs one repaint per tick, not
one per line, and keys are never starved. Lines that would scroll a full view of a
log nobody is reading (another pane has the focus) wait for at most `scroll_every`
seconds and go on screen together: scrolling re-sends every row of the view (Textual
cannot ask the terminal to scroll part of the screen), so over SSH a few lines a
second, each scrolling the view, cost more than the rest of the screen together.
Lines that land below the last one shown without moving it are drawn at the next
tick, and only their rows. Only the lines in view are rendered (`render_line`), from
a deque capped at `cap` lines, so an hour of a chatty pod holds the same memory as a
minute. Every line is neutralised and shown as plain text: escape sequences and Rich
markup from a backend are visible, never obeyed.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from pathlib import Path

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.timer import Timer

from console.domain.inert import neutralise
from console.domain.model import LogLine
from console.domain.pace import DEFAULT as DEFAULT_PACE
from widgets.base.filtering import compile_filter
from widgets.base.scrollbar import SteadyScrollView

LEVEL_STYLES = {
    "ERROR": "bold red",
    "CRITICAL": "bold red",
    "FATAL": "bold red",
    "WARN": "yellow",
    "WARNING": "yellow",
    "DEBUG": "dim",
}
MATCH_STYLE = "black on yellow"
SOURCE_STYLE = "cyan"
FULL_SOURCE_WIDTH = 100  # narrower views show a line's pod compactly (short_source)
SHORT_PART = 10  # a source's `/` part this short is shown whole
FLUSH_HZ = 15
# Seconds between two redraws that scroll a full view, unfocused and focused.
SCROLL_EVERY = DEFAULT_PACE.log_scroll
SCROLL_EVERY_FOCUSED = DEFAULT_PACE.log_scroll_focused
_CACHE_SIZE = 2_000


def short_source(source: str) -> str:
    """Where a line came from, compact: each `/` part kept when short, else the part
    that tells replicas apart, as a pod's last `-` segment (`api-46rb224t6v-vwqsb` →
    `vwqsb`) or a task id's first eight characters (`web/5f2e7d1c`)."""
    parts = []
    for part in source.split("/"):
        if len(part) > SHORT_PART:
            part = part.rpartition("-")[2] or part
            part = part[:8]
        parts.append(part)
    return "/".join(parts)


def format_line(line: LogLine, timestamps: bool, width: int | None = None) -> str:
    """The plain text of one line as shown: inert, with optional timestamp, and the pod
    (or task) it came from, whole from FULL_SOURCE_WIDTH cells up (and when `width` is
    None), compact below (see short_source)."""
    level = (line.level or "").upper()[:5]
    text = neutralise(line.text)
    prefix = f"{level:<5} " if level else ""
    if timestamps:
        prefix = f"{line.ts:%H:%M:%S} " + prefix
    if line.source:
        source = neutralise(line.source)
        if width is not None and width < FULL_SOURCE_WIDTH:
            source = short_source(source)
        prefix += f"{source} "
    return prefix + text


class LogView(SteadyScrollView, can_focus=True):
    """The lines of one stream; toggles for wrap, timestamps and autoscroll.

    Without wrap a long line is cut at the edge (as in k9s); `w` shows all of it.
    """

    DEFAULT_CSS = "LogView { overflow-x: hidden; }"

    HELP_GROUP = "log view"
    BINDINGS = [
        Binding("up,k", "scroll_up", "Up", show=False),
        Binding("down,j", "scroll_down", "Down", show=False),
        Binding("home,g", "scroll_home", "Top", show=False),
        Binding("end,G", "scroll_end", "Bottom", show=False),
    ]

    def __init__(
        self,
        cap: int = 10_000,
        *,
        scroll_every: float = SCROLL_EVERY,
        scroll_every_focused: float = SCROLL_EVERY_FOCUSED,
        clock: Callable[[], float] = time.monotonic,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.cap = cap
        self.scroll_every = scroll_every
        self.scroll_every_focused = scroll_every_focused
        self._clock = clock
        self._scrolled_at = float("-inf")
        self.wrap = False
        self.timestamps = False
        self.autoscroll = True
        self.pattern: re.Pattern[str] | None = None
        self.lines: deque[LogLine] = deque(maxlen=cap)
        self._pending: deque[LogLine] = deque(maxlen=cap)
        self._shown: deque[LogLine] = deque()
        self._starts: deque[int] = deque()  # absolute first row of each shown line (wrap)
        self._base = 0  # absolute row of the first shown line
        self._total = 0  # absolute row after the last shown line
        self._cache: OrderedDict[tuple, list[Strip]] = OrderedDict()
        self._timer: Timer | None = None
        self.received = 0  # lines ever pushed, kept or not

    def on_mount(self) -> None:
        self._timer = self.set_interval(1 / FLUSH_HZ, self.flush, pause=True)

    # ---- feeding ----------------------------------------------------------------

    def push(self, lines: Iterable[LogLine]) -> None:
        """Queue lines for the next flush; the oldest pending ones drop past the cap."""
        batch = lines if isinstance(lines, list | tuple) else list(lines)
        self._pending.extend(batch)
        self.received += len(batch)
        if self._timer is not None:
            self._timer.resume()

    def flush(self) -> int:
        """Move pending lines onto the screen in one repaint; returns how many.

        Lines that would scroll a full view stay pending until `scroll_every` (while
        the view has the focus, `scroll_every_focused`) has passed since the last such
        redraw; they then go on screen together, in order."""
        if not self._pending:
            if self._timer is not None:
                self._timer.pause()
            return 0
        now = self._clock()
        scrolls = self.autoscroll and self._total - self._base >= self._view_height()
        every = self.scroll_every_focused if self.has_focus else self.scroll_every
        if scrolls and now - self._scrolled_at < every:
            return 0
        batch = list(self._pending)
        self._pending.clear()
        self.lines.extend(batch)
        evicted_rows = 0
        top = self._base + int(self.scroll_y)  # the absolute row at the top of the view
        first_new = self._total - top  # the view row where the first new line lands
        width = self._text_width()
        for line in batch:
            if not self.matches(line):
                continue
            evicted_rows += self._append_shown(line, width)
        self._update_virtual_size()
        if self.autoscroll:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        elif evicted_rows:
            self.scroll_to(y=max(self.scroll_y - evicted_rows, 0), animate=False, immediate=True)
        if self._base + int(self.scroll_y) != top:
            self._scrolled_at = now
            self.refresh_content()  # at the cap lines move up while scroll_y stays
        elif first_new < self._view_height():
            area = self.content_area()
            self.refresh(Region(0, first_new, area.width, area.height - first_new))
        return len(batch)

    def _view_height(self) -> int:
        return self.scrollable_content_region.height

    def clear(self) -> None:
        self.lines.clear()
        self._pending.clear()
        self._rebuild()

    # ---- toggles ----------------------------------------------------------------

    def matches(self, line: LogLine) -> bool:
        """Whether `line` passes the filter: its text, its level or its pod, as each is
        shown, so `/warn` finds the WARN lines and `/vwqsb` one pod's."""
        pattern = self.pattern
        if pattern is None:
            return True
        return any(pattern.search(part) for part in (line.text, line.level, line.source) if part)

    def set_filter(self, pattern: str) -> None:
        self.pattern = compile_filter(pattern)
        self._rebuild()

    def toggle_wrap(self) -> bool:
        self.wrap = not self.wrap
        self._rebuild()
        return self.wrap

    def toggle_timestamps(self) -> bool:
        self.timestamps = not self.timestamps
        self._rebuild()
        return self.timestamps

    def toggle_autoscroll(self) -> bool:
        self.autoscroll = not self.autoscroll
        if self.autoscroll:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        return self.autoscroll

    @property
    def shown(self) -> list[LogLine]:
        """The lines that pass the filter, oldest first."""
        return list(self._shown)

    def save(self, path: Path) -> int:
        """Write the shown lines (inert text, UTC timestamps) to `path`; returns lines written."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            for line in self._shown:
                level = f" {line.level}" if line.level else ""
                source = f" {neutralise(line.source)}" if line.source else ""
                stamp = line.ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                out.write(f"{stamp}{level}{source} {neutralise(line.text)}\n")
        return len(self._shown)

    # ---- layout of rows ---------------------------------------------------------

    def _text_width(self) -> int:
        return max(self.scrollable_content_region.width, 1)

    def _height_of(self, line: LogLine, width: int) -> int:
        if not self.wrap:
            return 1
        return max(1, -(-cell_len(format_line(line, self.timestamps, width)) // width))

    def _append_shown(self, line: LogLine, width: int) -> int:
        evicted = 0
        if len(self._shown) >= self.cap:
            self._shown.popleft()
            self._starts.popleft()
            old_base = self._base
            self._base = self._starts[0] if self._starts else self._total
            evicted = self._base - old_base
        self._shown.append(line)
        self._starts.append(self._total)
        self._total += self._height_of(line, width)
        return evicted

    def _rebuild(self) -> None:
        self._shown.clear()
        self._starts.clear()
        self._base = self._total = 0
        self._cache.clear()
        width = self._text_width()
        for line in self.lines:
            if self.matches(line):
                self._append_shown(line, width)
        self._update_virtual_size()
        if self.autoscroll:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def _update_virtual_size(self) -> None:
        self.set_virtual_size(Size(self._text_width(), self._total - self._base))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self._scrolled_at = self._clock()

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        """Lines that overflow the view lay it out again with a scrollbar, and only then
        can it scroll: a view that follows the end goes there now."""
        if shown and self.autoscroll:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def on_resize(self, event: events.Resize) -> None:
        if self.wrap:
            self._rebuild()
        else:
            self._update_virtual_size()
            if self.autoscroll:  # a following log stays at its end (once laid out)
                self.scroll_end(animate=False, x_axis=False)

    # ---- rendering --------------------------------------------------------------

    def _strips(self, line: LogLine, width: int) -> list[Strip]:
        key = (line, self.wrap, self.timestamps, self.pattern, width)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        text = Text(format_line(line, self.timestamps, width), no_wrap=not self.wrap, end="")
        offset = 9 if self.timestamps else 0
        if self.timestamps:
            text.stylize("dim", 0, 8)
        level = (line.level or "").upper()
        if level in LEVEL_STYLES:
            text.stylize(LEVEL_STYLES[level], offset, offset + 5)
        if line.level:
            offset += 6
        if line.source:
            end = text.plain.index(" ", offset)
            text.stylize(SOURCE_STYLE, offset, end)
        if self.pattern is not None:
            text.highlight_regex(self.pattern, MATCH_STYLE)
        console = self.app.console
        if self.wrap:
            strips = [Strip(list(part.render(console))) for part in text.wrap(console, width)] or [
                Strip([])
            ]
        else:
            strips = [Strip(list(text.render(console)))]
        self._cache[key] = strips
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return strips

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        style = self.rich_style
        row = self._base + int(self.scroll_y) + y
        if not self._shown or row >= self._total:
            return Strip.blank(width, style)
        index = bisect_right(self._starts, row) - 1
        line = self._shown[index]
        strips = self._strips(line, width)
        sub = row - self._starts[index]
        strip = strips[sub] if sub < len(strips) else Strip([])
        segments = Segment.apply_style(strip, style)
        return Strip(segments).adjust_cell_length(width, style).simplify()
