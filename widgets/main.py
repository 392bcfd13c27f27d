"""The main screen: every pane at once on a wide terminal, a deck below Services on a narrow one.

Wide (at least 120x30): Services and Approvals on top, Logs and Metrics below,
Rotation and Audit down the right. Narrow (80x24 and up): Services on top and one
of the other panes under it, chosen with `:name`, the pane strip or Tab. The same
widgets move between the two layouts by CSS classes only, so nothing is rebuilt
and no stream restarts on a resize.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal
from textual.screen import Screen
from textual.widget import MountError

from widgets.base.chrome import ActionProgress, Clock, CommandBar, ProviderStatus, TopBar
from widgets.base.pane import Pane
from widgets.panes.services import ServicesPane

WIDE = (120, 30)
LOWER = ("logs", "metrics", "approvals", "rotation", "audit")


class MainScreen(Screen[None]):
    """Holds the panes; the app feeds them."""

    ALLOW_IN_MAXIMIZED_VIEW = (
        "#top,ProviderStatus,ActionProgress,CommandBar,Footer,.-textual-system"
    )

    # Tab goes from pane to pane, not from widget to widget, and in a narrow terminal it
    # shows the next lower pane, as `:logs` and the pane strip do.
    BINDINGS = [
        Binding("tab", "app.cycle_pane(1)", "Next pane", show=False),
        Binding("shift+tab", "app.cycle_pane(-1)", "Previous pane", show=False),
    ]

    def __init__(
        self,
        *,
        now: Callable[[], datetime],
        log_cap: int,
        log_scroll: tuple[float, float],
        save_dir: Path,
        commands: list[str],
        on_command: Callable[[str, str | None], None],
        on_ready: Callable[[], None],
        on_all: Callable[[], None],
    ) -> None:
        super().__init__()
        self.now = now
        self.log_cap = log_cap
        self.log_scroll = log_scroll
        self.save_dir = save_dir
        self.commands = commands
        self.on_command = on_command
        self.on_ready = on_ready
        self.on_all = on_all
        self.lower = "logs"

    def compose(self) -> ComposeResult:
        # The layout classes are set before the panes mount, so they are styled once.
        self._layout(self.app.size.width, self.app.size.height)
        with Horizontal(id="top"):
            yield TopBar(id="top-bar")
            yield Clock(id="clock")
        with Container(id="panes"):
            yield ServicesPane(self.now, id="services")
        yield ProviderStatus(id="provider-status")
        yield ActionProgress(id="action-progress")
        command_bar = CommandBar(self.commands, self.on_command, id="command-bar")
        command_bar.display = False
        yield command_bar

    @property
    def panes(self) -> dict[str, Pane]:
        return {pane.id: pane for pane in self.query(Pane) if pane.id}

    @property
    def wide(self) -> bool:
        return self.has_class("-wide")

    def on_mount(self) -> None:
        """The chrome and Services are mounted: the app feeds them now, before the first
        frame (a message would arrive after it), so what it already has is in that frame.
        The other panes and the key footer are mounted after that frame: styling and
        painting six panes instead of one was about a third of the time to the first
        paint, and the footer's key widgets another tenth."""
        self._layout(self.size.width, self.size.height)
        self.on_ready()
        self.call_after_refresh(self._mount_others)

    async def _mount_others(self) -> None:
        # Their modules too are loaded here, after the first frame.
        from widgets.base.footer import KeyFooter
        from widgets.panes.approvals import ApprovalsPane
        from widgets.panes.audit import AuditPane
        from widgets.panes.logs import LogPane
        from widgets.panes.metrics import MetricsPane
        from widgets.panes.rotation import RotationPane

        panes = (
            ApprovalsPane(self.now, id="approvals"),
            LogPane(
                cap=self.log_cap,
                scroll_every=self.log_scroll[0],
                scroll_every_focused=self.log_scroll[1],
                save_dir=self.save_dir,
                now=self.now,
                id="logs",
            ),
            MetricsPane(id="metrics"),
            RotationPane(self.now, id="rotation"),
            AuditPane(id="audit"),
        )
        try:
            await self.query_one("#panes").mount(*panes)
            await self.mount(KeyFooter())
        except MountError:
            return  # the console quit before its first frame
        if not all(pane.is_attached for pane in panes):
            return  # likewise, while they mounted
        self.show_lower(self.lower)
        self.on_all()

    def on_resize(self, event: events.Resize) -> None:
        self._layout(event.size.width, event.size.height)

    def _layout(self, width: int, height: int) -> None:
        wide = width >= WIDE[0] and height >= WIDE[1]
        self.set_class(wide, "-wide")
        self.set_class(not wide, "-narrow")

    def show_lower(self, name: str) -> None:
        """In a narrow terminal, `name` becomes the pane under Services."""
        if name not in LOWER:
            return
        self.lower = name
        for pane_name in LOWER:
            self.query_one(f"#{pane_name}", Pane).set_class(pane_name == name, "-shown")

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        for node in event.widget.ancestors_with_self:
            if isinstance(node, Pane) and node.id in LOWER:
                if node.id != self.lower:
                    self.show_lower(node.id)
                break
