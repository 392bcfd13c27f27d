"""Scroll views whose scrollbar is re-sent to the terminal only when its thumb moves.

Textual repaints a scroll view's scrollbar whenever the screen is laid out again (any
widget's virtual size changing, anywhere), whenever the scroll position changes by a
fraction the thumb cannot show, and with every full refresh of the view. Over SSH that
was the scrollbar columns of every table and log on screen, several times a second, with
identical cells. Here the scrollbar remembers what it last drew and ignores a refresh
that would draw the same; the view refreshes its content without its scrollbar.
"""

from __future__ import annotations

from math import ceil

from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar, ScrollBarRender

_EIGHTHS = len(ScrollBarRender.VERTICAL_BARS)


class SteadyScrollBar(ScrollBar):
    """A scrollbar that skips refreshes which would draw the same cells again."""

    def __init__(self, vertical: bool = True, name: str | None = None, *, thickness: int = 1):
        super().__init__(vertical, name, thickness=thickness)
        self._drawn: tuple | None = None
        self._check_pending = False
        self.paints = 0  # times drawn; tests read it

    def thumb(self) -> tuple[int, int] | None:
        """Where the thumb is, in eighths of a cell from the top: (start, end), or None
        when there is nothing to scroll. The same arithmetic as Textual's renderer."""
        size = self.size.height if self.vertical else self.size.width
        virtual = ceil(self.window_virtual_size)
        window = ceil(self.window_size) if self.window_size < self.window_virtual_size else 0
        if not (window and size and virtual and size != virtual):
            return None
        thumb = max(1, window / (virtual / size))
        at = (size - thumb) * (self.position / (virtual - window))
        start = int(at * _EIGHTHS)
        return start, start + ceil(thumb * _EIGHTHS)

    def _look(self) -> tuple:
        """Everything the drawn cells depend on."""
        styles = self.parent.styles if self.parent is not None else None
        colours = (
            ()
            if styles is None
            else (
                styles.scrollbar_color,
                styles.scrollbar_background,
                styles.scrollbar_color_hover,
                styles.scrollbar_background_hover,
                styles.scrollbar_color_active,
                styles.scrollbar_background_active,
            )
        )
        return (self.size, self.thumb(), self.grabbed is not None, self.mouse_over, colours)

    def render(self):
        self._drawn = self._look()
        self.paints += 1
        return super().render()

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, **kwargs):
        """Decided once the handler that asked is done: a view that sets its new size and
        then scrolls to the end moves the thumb and back within one handler."""
        if regions or layout or kwargs.get("recompose") or self._drawn is None:
            return super().refresh(*regions, repaint=repaint, layout=layout, **kwargs)
        if not self._check_pending:
            self._check_pending = True
            self.call_later(self._repaint_if_moved)
        return self

    def _repaint_if_moved(self) -> None:
        self._check_pending = False
        if self._drawn != self._look():
            super().refresh()


class SteadyScrollView(ScrollView):
    """A line-API view with a steady scrollbar; `refresh_content` repaints the rows only."""

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        """Textual's own property, building a `SteadyScrollBar` instead."""
        if self._vertical_scrollbar is None:
            bar = SteadyScrollBar(
                vertical=True, name="vertical", thickness=self.scrollbar_size_vertical
            )
            bar.display = False
            self._vertical_scrollbar = bar
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar

    def content_area(self) -> Region:
        """The rows' cells, without the scrollbar, relative to this view."""
        return Region(0, 0, *self.scrollable_content_region.size)

    def refresh_content(self) -> None:
        """Repaint every row in view, and not the scrollbar beside them."""
        self.refresh(self.content_area())

    def set_virtual_size(self, size: Size) -> None:
        """Set the scrollable size; lay the screen out again only when that shows or hides
        the scrollbar. (Assigning `virtual_size` lays out the whole screen, and repaints
        this view and its scrollbar, for every line a log gains.)"""
        old = self.virtual_size
        if size == old:
            return
        height = self.container_size.height
        if (
            not self.container_size
            or size.width != old.width
            or (size.height > height) != (old.height > height)
        ):
            self.virtual_size = size
            return
        self.set_reactive(ScrollView.virtual_size, size)
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.window_virtual_size = size.height

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        # Also while the bar is hidden: rows just added scroll the view before the
        # layout that shows the bar, which would otherwise show the thumb where it was.
        self.vertical_scrollbar.position = new_value
        if round(old_value) != round(new_value):
            self.refresh_content()
