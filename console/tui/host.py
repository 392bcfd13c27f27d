"""What the controllers of console/tui/ need of the app that runs them.

The app sits above tui/ in the layers, so the controllers name it by this protocol,
never by import: a Textual `App` with the console's session, hub, panes and notices.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from textual.app import App

from console.domain.identity import Identity
from console.engine.hub import Hub
from console.engine.session import Session

if TYPE_CHECKING:
    from console.engine.actions import Actions
    from console.tui.feeds import Feeds
    from console.tui.flows import ConsensusFlows
    from console.tui.keys import ChangeGuard
    from widgets.main import MainScreen
    from widgets.panes.approvals import ApprovalsPane
    from widgets.panes.audit import AuditPane
    from widgets.panes.logs import LogPane
    from widgets.panes.metrics import MetricsPane
    from widgets.panes.rotation import RotationPane
    from widgets.panes.services import ServicesPane


class Console(App[int], Protocol):
    """The Quorum app as its controllers see it."""

    session: Session
    hub: Hub
    identity: Identity
    ledger_unreachable: str | None
    readonly: bool
    now: Callable[[], datetime]
    guard: ChangeGuard
    feeds: Feeds
    flows: ConsensusFlows

    @property
    def actions(self) -> Actions: ...

    @property
    def main(self) -> MainScreen: ...

    @property
    def services(self) -> ServicesPane: ...

    @property
    def logs(self) -> LogPane: ...

    @property
    def metrics(self) -> MetricsPane: ...

    @property
    def approvals_pane(self) -> ApprovalsPane: ...

    @property
    def rotation_pane(self) -> RotationPane: ...

    @property
    def audit_pane(self) -> AuditPane: ...

    def say(self, message: str, *, error: bool = False, title: str = "") -> None: ...

    def record(self, message: str, *, title: str = "") -> None: ...

    def say_failed(self, doing: str, reason: BaseException | str) -> None: ...

    def failures_over(self) -> None: ...

    def paint_chrome(self) -> None: ...
