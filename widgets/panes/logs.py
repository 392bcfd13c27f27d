"""The Logs pane: follows the selected target's log as a worker owned by the pane.

The stream runs in the pane's exclusive "logs" worker group: choosing another
target or time window cancels the old stream, and closing the pane ends it. The
pane never reaches a backend itself; the app hands it a function that opens the
stream, and the pane only consumes lines.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.worker import Worker

from console.domain.inert import neutralise
from console.domain.model import LogLine
from widgets.base.logview import SCROLL_EVERY, SCROLL_EVERY_FOCUSED, LogView
from widgets.base.pane import Pane

# k9s log windows: 0 tail, 1 head (everything the backend keeps), 2-6 the last N minutes.
WINDOWS: dict[str, tuple[str, timedelta | None, int | None]] = {
    "0": ("tail", None, 200),
    "1": ("head", None, None),
    "2": ("1m", timedelta(minutes=1), None),
    "3": ("5m", timedelta(minutes=5), None),
    "4": ("15m", timedelta(minutes=15), None),
    "5": ("30m", timedelta(minutes=30), None),
    "6": ("1h", timedelta(hours=1), None),
}
# The footer shows the windows as one entry, `0-6 Window`; the help lists each.
WINDOW = Binding.Group("Window")
YIELD_EVERY = 256  # lines consumed between yields to the event loop during a flood

# (since, tail, container, previous) -> lines; container None is the provider's default.
StreamFactory = Callable[[timedelta | None, int | None, str | None, bool], AsyncIterator[LogLine]]


class LogPane(Pane):
    """Log of the selected target: `s` autoscroll, `w` wrap, `t` timestamps, 0-6 windows,
    `c` container, `p` previous container (k9s's keys)."""

    TITLE = "logs"
    COMMAND = "logs"
    ALIASES = ("log",)

    BINDINGS = [
        Binding("s", "toggle('autoscroll')", "Autoscroll"),
        Binding("w", "toggle('wrap')", "Wrap"),
        Binding("t", "toggle('timestamps')", "Timestamps"),
        Binding("0", "window('0')", "Tail", group=WINDOW),
        Binding("1", "window('1')", "Head", group=WINDOW),
        Binding("2", "window('2')", "1m", group=WINDOW),
        Binding("3", "window('3')", "5m", group=WINDOW),
        Binding("4", "window('4')", "15m", group=WINDOW),
        Binding("5", "window('5')", "30m", group=WINDOW),
        Binding("6", "window('6')", "1h", group=WINDOW),
        Binding("c", "container", "Container"),
        Binding("p", "previous", "Previous"),
        Binding("ctrl+s", "save", "Save"),
    ]

    class StreamChanged(Message):
        """The user picked another time window, container or instance; the app reopens
        the stream with what the pane now holds."""

    class ContainersWanted(Message):
        """`c` was pressed: the app looks up the target's containers and answers with
        `next_container`, so the pane never reaches a backend itself."""

    def __init__(
        self,
        *,
        cap: int = 10_000,
        scroll_every: float = SCROLL_EVERY,
        scroll_every_focused: float = SCROLL_EVERY_FOCUSED,
        save_dir: Path | None = None,
        now: Callable[[], datetime] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.cap = cap
        self.scroll_every = scroll_every
        self.scroll_every_focused = scroll_every_focused
        self.save_dir = save_dir or Path.cwd()
        self.now = now
        self.window = "0"
        self.container: str | None = None  # None: the provider's default (all, or the only one)
        self.previous = False
        self.subject = ""
        self.filter_text = ""
        self.stream_state = "no target selected"
        self.last_saved: Path | None = None

    def compose(self) -> ComposeResult:
        yield LogView(
            self.cap,
            scroll_every=self.scroll_every,
            scroll_every_focused=self.scroll_every_focused,
            id="log-view",
        )

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def follow(self, subject: str, factory: StreamFactory | None) -> Worker | None:
        """Show `subject`'s log from `factory`, replacing any stream this pane runs.

        A container chosen for one target means nothing for another: a new subject
        starts from the default container and the running instance."""
        if subject != self.subject:
            self.container, self.previous = None, False
        self.subject = subject
        self.view.clear()
        self.workers.cancel_group(self, "logs")
        if factory is None:
            self.stream_state = "this provider has no logs"
            self._retitle()
            return None
        self.stream_state = "previous instance" if self.previous else "following"
        self._retitle()
        _, since, tail = WINDOWS[self.window]
        return self.run_worker(
            # A callable, not a coroutine: a worker replaced before it starts leaves no
            # coroutine behind that was never awaited.
            partial(self._consume, factory(since, tail, self.container, self.previous)),
            group="logs",
            exclusive=True,
            exit_on_error=False,
            name=f"logs:{subject}",
        )

    async def _consume(self, lines: AsyncIterator[LogLine]) -> None:
        count = 0
        closer = contextlib.aclosing(lines) if hasattr(lines, "aclose") else None
        try:
            async with closer or contextlib.nullcontext():
                async for line in lines:
                    self.view.push((line,))
                    count += 1
                    if count % YIELD_EVERY == 0:
                        await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a backend error ends this stream only, with a notice
            self.stream_state = f"stream stopped: {neutralise(str(exc))}"
            self.app.notify(self.stream_state, title=self.subject, severity="error", markup=False)
        else:
            self.stream_state = "end of the previous instance" if self.previous else "stream ended"
        self._retitle()

    def set_filter(self, text: str) -> None:
        """Show only lines matching `text` (a regex); an invalid one raises FilterError
        and leaves the filter as it was."""
        self.view.set_filter(text)
        self.filter_text = text
        self._retitle()

    def action_toggle(self, flag: str) -> None:
        view = self.view
        value = {
            "autoscroll": view.toggle_autoscroll,
            "wrap": view.toggle_wrap,
            "timestamps": view.toggle_timestamps,
        }[flag]()
        if flag == "autoscroll":  # said as the title says it
            said = "following" if value else "paused: new lines arrive below, s follows again"
        else:
            said = f"{flag} {'on' if value else 'off'}"
        self.app.notify(said, timeout=2)
        self._retitle()

    def action_window(self, key: str) -> None:
        self.window = key
        self._retitle()
        self.post_message(self.StreamChanged())

    def action_previous(self) -> None:
        self.previous = not self.previous
        self._retitle()
        self.post_message(self.StreamChanged())

    def action_container(self) -> None:
        self.post_message(self.ContainersWanted())

    def next_container(self, containers: list[str]) -> None:
        """Step to the next of `containers` (then back to the default) and reopen."""
        if len(containers) < 2:
            only = f": {containers[0]}" if containers else ""
            self.app.notify(f"{self.subject} has one container{only}", timeout=3, markup=False)
            return
        order: list[str | None] = [None, *containers]
        at = order.index(self.container) if self.container in order else 0
        self.container = order[(at + 1) % len(order)]
        shown = self.container or f"all ({', '.join(containers)})"
        self.app.notify(f"container {shown}", timeout=2, markup=False)
        self._retitle()
        self.post_message(self.StreamChanged())

    def action_save(self) -> None:
        stamp = (self.now() if self.now else datetime.now()).strftime("%Y%m%dT%H%M%S")
        name = "".join(c if c.isalnum() or c in "-_." else "-" for c in self.subject) or "log"
        path = self.save_dir / f"{name}-{stamp}.log"
        try:
            count = self.view.save(path)
        except OSError as exc:
            self.app.notify(f"could not save: {exc.strerror}", severity="error", markup=False)
            return
        self.last_saved = path
        self.app.notify(f"saved {count} lines to {path}", title="logs", markup=False)

    def _retitle(self) -> None:
        """The title starts with the filter, then the target and one state: following,
        or paused after `s` (the stream goes on underneath); the time window and the
        toggles come last, where a narrow pane may cut them. The bottom edge says only
        what is not following: ended, stopped and why, no logs."""
        view = self.view
        head = "logs"
        if self.filter_text:
            head += f" /{self.filter_text}/"
        if self.subject:
            head += f" {self.subject}"
        flags = []
        if not view.autoscroll:
            flags.append("paused")
        elif self.stream_state == "following":
            flags.append("following")
        flags.append(f"window {WINDOWS[self.window][0]}")
        if self.container:
            flags.append(f"container {neutralise(self.container)}")
        if self.previous:
            flags.append("previous")
        if view.wrap:
            flags.append("wrap")
        if view.timestamps:
            flags.append("ts")
        self.set_title(" · ".join([head, *flags]))
        self.set_status("" if self.stream_state == "following" else self.stream_state)
