"""A keyed table that renders only the rows on screen and repaints only rows that changed.

A stock DataTable re-sends its whole visible area whenever one cell changes, which
over SSH costs as much as a full-screen paint each poll. Here every row has a key;
`set_rows` compares the new cells with the old ones and refreshes the one-line
region of each changed row, so a poll that changes one replica count sends one line.
The header is line 0 and stays pinned while rows scroll beneath it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip

from widgets.base.scrollbar import SteadyScrollView


@dataclass(frozen=True)
class Column:
    """One column: `width` cells, or the flexible remainder when `flex`.

    `priority` 0 columns always show; higher ones are dropped first when the pane
    is too narrow, so the table fits 80 columns and uses 160 well. A `fit` column is
    as wide as its longest value (or label), at most `width`: a column of short
    names leaves its room to the others, one of long names is not cut short.
    """

    key: str
    label: str
    width: int = 10
    flex: bool = False
    priority: int = 0
    justify: str = "left"
    fit: bool = False


Row = tuple[str, tuple[Text, ...]]


class KeyedTable(SteadyScrollView, can_focus=True):
    """Rows by key with a cursor that follows its row across sorts and updates."""

    HELP_GROUP = "table"
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "edge(0)", "First", show=False),
        Binding("end,G", "edge(1)", "Last", show=False),
    ]

    COMPONENT_CLASSES = {
        "keyed-table--header",
        "keyed-table--cursor",
        "keyed-table--cursor-blur",
        "keyed-table--stale",
    }

    DEFAULT_CSS = """
    KeyedTable { overflow-x: hidden; }
    KeyedTable > .keyed-table--header { text-style: bold; color: $text-muted; }
    KeyedTable > .keyed-table--cursor { background: $accent 40%; }
    KeyedTable > .keyed-table--cursor-blur { background: $panel-lighten-2; }
    KeyedTable > .keyed-table--stale { text-style: dim italic; }
    """

    class CursorMoved(Message):
        """The row under the cursor changed (another key, or none)."""

        def __init__(self, table: KeyedTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> KeyedTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        empty_text: str = "nothing to show",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = list(columns)
        self.empty_text = empty_text
        self._found_nothing = empty_text  # what the pane says of no rows it looked for
        self._keys: list[str] = []
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._dim: set[str] = set()
        self._cursor = 0
        self._cursor_key: str | None = None
        self._strips: dict[str, tuple[object, Strip]] = {}
        self._widths_for: tuple[object, list[tuple[Column, int]]] | None = None
        self._rows_seen = 0  # counts the rows given, so fitted widths know when to change
        self.repaints = 0  # rows repainted by diffs; tests and the bench read it
        self.drawn = 0  # row lines rendered (not served from the cache); tests read it

    # ---- data -------------------------------------------------------------------

    @property
    def keys(self) -> list[str]:
        """Row keys in display order."""
        return list(self._keys)

    @property
    def cursor_key(self) -> str | None:
        return self._cursor_key

    def cells(self, key: str) -> tuple[str, ...]:
        """The plain text of a row's cells (what tests and copy read)."""
        return tuple(cell.plain for cell in self._cells[key])

    def set_empty_text(self, text: str | None) -> None:
        """What the table says while it has no rows: why its pane could not look (its
        source out of reach), or with None again that it looked and found none; never
        one mistaken for the other."""
        text = self._found_nothing if text is None else text
        if text != self.empty_text:
            was, self.empty_text = self.empty_text, text
            if not self._keys and self.is_mounted:
                lines = max(len(self._empty_lines(was)), len(self._empty_lines(text)))
                self.refresh(Region(0, 1, self.size.width, lines))

    def set_columns(self, columns: Sequence[Column]) -> None:
        """Other widths for the same columns (a pane fitting its values); repaints only
        when they change."""
        if list(columns) != self.columns:
            self.columns = list(columns)
            self._strips.clear()
            self.refresh()

    def set_rows(self, rows: Sequence[Row], dim: set[str] | None = None) -> int:
        """Show `rows` in this order, as a patch on what is shown: rows whose keys went
        leave, new ones take their places, and only the lines on screen whose row or
        shown cells changed are repainted. A row that only moved up or down is served
        from the line cache, so a proposal appearing above 30 others draws one line,
        not 30. The cursor stays on its key (on the nearest row left when its key
        went) and the view keeps its scroll position. Returns the lines repainted."""
        dim = dim or set()
        old_keys, old_cells, old_dim = self._keys, self._cells, self._dim
        old_top = int(self.scroll_y)
        shown = self._shown_columns()
        before = self.widths(self._width) if self._fits else None
        new_keys = [key for key, _ in rows]
        self._cells = dict(rows)
        self._dim = dim
        self._rows_seen += 1
        if new_keys != old_keys:
            self._keys = new_keys
            for key in old_cells.keys() - self._cells.keys():
                self._strips.pop(key, None)
            self.set_virtual_size(self._virtual(self.size))
            if self.scroll_y > self.max_scroll_y:  # rows went from the end of the view
                self.scroll_y = self.max_scroll_y
            self._follow_cursor(old_keys, old_top)
        if before is not None and self.widths(self._width) != before:
            # A fitted column changed its width: every row moves, not only these.
            self._strips.clear()
            lines = max(self.size.height - 1, 0)
            self.refresh_content()
            self.repaints += lines
            return lines
        changed = self._changed_lines(old_keys, old_cells, old_dim, old_top, shown)
        if changed:
            width = self.size.width
            self.refresh(*(Region(0, y, width, 1) for y in changed))
        self.repaints += len(changed)
        return len(changed)

    def _changed_lines(
        self,
        old_keys: list[str],
        old_cells: dict[str, tuple[Text, ...]],
        old_dim: set[str],
        old_top: int,
        shown: list[int],
    ) -> list[int]:
        """The lines on screen that show another row, or the same row with other shown
        cells, than before. Rows off screen are not compared: their cached line is
        checked against their cells when they scroll into view."""
        if bool(old_keys) != bool(self._keys):
            return list(range(1, self.size.height))  # the empty text came or went
        new_top = int(self.scroll_y)
        out = []
        for y in range(1, self.size.height):
            old_index, new_index = old_top + y - 1, new_top + y - 1
            old = old_keys[old_index] if old_index < len(old_keys) else None
            key = self._keys[new_index] if new_index < len(self._keys) else None
            if old != key or (
                key is not None
                and (
                    (key in self._dim) != (key in old_dim)
                    or self._visible(self._cells[key], shown)
                    != self._visible(old_cells[key], shown)
                )
            ):
                out.append(y)
        return out

    def _shown_columns(self) -> list[int]:
        """Indexes of the columns the current width shows (all of them before a layout).

        Rows are compared on these only: a poll that changes a metric in a column
        the pane is too narrow to show sends nothing; the cells are kept, so a wider
        pane shows the new value."""
        width = self._width
        if width <= 0:
            return list(range(len(self.columns)))
        by_key = {c.key: i for i, c in enumerate(self.columns)}
        return [by_key[column.key] for column, _ in self.widths(width)]

    @staticmethod
    def _visible(cells: tuple[Text, ...] | None, shown: list[int]) -> tuple[Text, ...] | None:
        return None if cells is None else tuple(cells[i] for i in shown)

    def select(self, key: str) -> bool:
        """Put the cursor on `key`'s row; False when no such row is shown."""
        if key not in self._cells:
            return False
        self._set_cursor(self._keys.index(key))
        return True

    def _follow_cursor(self, old_keys: list[str], old_top: int) -> None:
        """After the keys changed: the cursor stays on its key; when that row went, on
        the nearest one left (the next below, which took its place, else the one
        above). The view follows the cursor only if it showed it before."""
        key, at = self._cursor_key, self._cursor
        if key is not None and key not in self._cells and at < len(old_keys):
            below = (k for k in old_keys[at + 1 :] if k in self._cells)
            above = (k for k in reversed(old_keys[:at]) if k in self._cells)
            key = next(below, None)
            key = next(above, None) if key is None else key
        index = self._keys.index(key) if key in self._cells else self._cursor
        visible = max(self.size.height - 1, 1)
        self._set_cursor(index, follow=old_top <= self._cursor < old_top + visible)

    def _set_cursor(self, index: int, follow: bool = True) -> None:
        old = self._cursor
        self._cursor = max(0, min(index, len(self._keys) - 1)) if self._keys else 0
        key = self._keys[self._cursor] if self._keys else None
        if old != self._cursor:
            self._refresh_index(old)
            self._refresh_index(self._cursor)
        if follow:
            self._scroll_cursor_into_view()
        if key != self._cursor_key:
            self._cursor_key = key
            self.post_message(self.CursorMoved(self, key))

    def _scroll_cursor_into_view(self) -> None:
        """Forced: rows just added may need a scrollbar the next layout will show."""
        visible = max(self.size.height - 1, 1)
        top = int(self.scroll_y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True, force=True)
        elif self._cursor >= top + visible:
            y = self._cursor - visible + 1
            self.scroll_to(y=y, animate=False, immediate=True, force=True)

    def _virtual(self, size: Size) -> Size:
        """The scrollable size: the header and every row, and never less than the view.

        A new virtual size lays the whole screen out again, and Textual then repaints
        every scroll view's scrollbar; rows added to a table that still fits its view
        change nothing that needs that.
        """
        return Size(size.width, max(len(self._keys) + 1, size.height))

    def _refresh_index(self, index: int) -> None:
        y = index - int(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    # ---- actions ----------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        self._set_cursor(self._cursor + delta)

    def action_page(self, direction: int) -> None:
        self._set_cursor(self._cursor + direction * max(self.size.height - 2, 1))

    def action_edge(self, end: int) -> None:
        self._set_cursor(len(self._keys) - 1 if end else 0)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self._set_cursor(int(self.scroll_y) + event.y - 1)

    def on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        self.virtual_size = self._virtual(event.size)
        # A pane whose detail grew (a vote arrived) gives its table fewer lines: the
        # selected row stays in view rather than going under the detail.
        self._scroll_cursor_into_view()

    def on_focus(self) -> None:
        self._refresh_index(self._cursor)

    def on_blur(self) -> None:
        self._refresh_index(self._cursor)

    # ---- rendering --------------------------------------------------------------

    def widths(self, total: int) -> list[tuple[Column, int]]:
        """Columns that fit in `total` cells with their widths. A flexible column's
        `width` is its least useful width: below it, columns are dropped by priority
        first; above it, the flexible ones share the rest in proportion to it."""
        key = (total, self._rows_seen, tuple(self.columns))
        if self._widths_for is not None and self._widths_for[0] == key:
            return self._widths_for[1]
        shown = [self._fitted(c) if c.fit else c for c in self.columns]
        while True:
            fixed = sum(c.width for c in shown if not c.flex) + len(shown) - 1
            least = sum(c.width for c in shown if c.flex)
            if fixed + least <= total or not any(c.priority for c in shown):
                break
            worst = max(c.priority for c in shown)
            shown.remove([c for c in shown if c.priority == worst][-1])
        spare = max(total - fixed, 0)
        flex = [c for c in shown if c.flex]
        shares = [spare * c.width // max(least, 1) for c in flex]
        if shares:
            shares[0] += spare - sum(shares)  # the first flexible column takes what is left
        share = dict(zip([c.key for c in flex], shares, strict=True))
        out = [(c, max(share[c.key], 1) if c.flex else c.width) for c in shown]
        # Every line asks; the answer changes only with the width, the rows or columns.
        self._widths_for = (key, out)
        return out

    @property
    def _fits(self) -> bool:
        return any(c.fit for c in self.columns)

    def _fitted(self, column: Column) -> Column:
        index = self.columns.index(column)
        longest = max((self._cells[k][index].cell_len for k in self._keys), default=0)
        return replace(column, width=min(max(longest, len(column.label)), column.width))

    @property
    def _width(self) -> int:
        return self.scrollable_content_region.width

    def _line(self, cells: Sequence[Text], widths: list[tuple[Column, int]], style: Style) -> Strip:
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        by_key = {c.key: i for i, c in enumerate(self.columns)}
        for n, (column, width) in enumerate(widths):
            cell = cells[by_key[column.key]].copy()
            cell.truncate(width, overflow="ellipsis", pad=False)
            if column.justify == "right":
                cell.pad_left(width - cell.cell_len)
            else:
                cell.pad_right(width - cell.cell_len)
            line.append_text(cell)
            if n < len(widths) - 1:
                line.append(" ")
        segments = Segment.apply_style(line.render(self.app.console), style)
        return Strip(segments).adjust_cell_length(self._width, style).simplify()

    def _empty_lines(self, text: str) -> list[Text]:
        """The empty text wrapped to the table's width: a reason why nothing could be
        read (a server's refusal) is longer than a side pane is wide, and cut short it
        would not say why."""
        width = max(self._width, 1)
        return list(Text(text, style="italic").wrap(self.app.console, width))

    def render_line(self, y: int) -> Strip:
        width = self._width
        base = self.rich_style
        widths = self.widths(width)
        if y == 0:
            header = tuple(Text(c.label) for c in self.columns)
            style = base + self.get_component_rich_style("keyed-table--header")
            return self._line(header, widths, style)
        index = int(self.scroll_y) + y - 1
        if not self._keys:
            lines = self._empty_lines(self.empty_text)
            if 1 <= y <= len(lines):
                segments = Segment.apply_style(lines[y - 1].render(self.app.console), base)
                return Strip(segments).adjust_cell_length(width, base)
            return Strip.blank(width, base)
        if index >= len(self._keys):
            return Strip.blank(width, base)
        key = self._keys[index]
        cursor = index == self._cursor
        # Compared on the cells shown at these widths: a hidden column's change sends nothing.
        shown = self._visible(self._cells[key], self._shown_columns())
        signature = (shown, widths, cursor, self.has_focus, key in self._dim)
        cached = self._strips.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1]
        style = base
        if key in self._dim:
            style = style + self.get_component_rich_style("keyed-table--stale")
        if cursor:
            component = "keyed-table--cursor" if self.has_focus else "keyed-table--cursor-blur"
            style = style + self.get_component_rich_style(component)
        strip = self._line(self._cells[key], widths, style)
        self._strips[key] = (signature, strip)
        self.drawn += 1
        return strip
