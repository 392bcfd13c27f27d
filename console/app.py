"""The Textual console: the App only. It composes the main screen, owns the global keys,
and wires the panes' messages to the controllers in console/tui/.

Data flows one way: providers → hub → `HubChanged` → console.tui.feeds → panes; back
only through the engine's actions, from the dialog flows (console.tui.flows,
console.tui.rotation_forms). The clock is injected (`now`), so a paused sandbox and a
fixed clock give the same screen on every run.
"""

from __future__ import annotations

import argparse
import os
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

import widgets
from console.domain.identity import Identity, current_identity
from console.domain.inert import neutralise
from console.domain.model import utcnow
from console.domain.pace import Pace, pace_for
from console.engine import collector
from console.engine.hub import Hub, ProviderState
from console.engine.session import Session, open_session
from console.tui.feeds import Feeds, guard_panes
from console.tui.flows import ConsensusFlows
from console.tui.help import show_help
from console.tui.keys import ChangeGuard, focused_pane, prompt_allowed
from console.tui.messages import HubChanged
from console.tui.prompt import Prompt
from console.tui.rotation_forms import RotationForms
from widgets.base.chrome import Clock, TopBar
from widgets.base.pane import Pane
from widgets.main import LOWER, MainScreen
from widgets.panes.services import ServicesPane, ServiceView

if TYPE_CHECKING:
    # The engine's actions (and the ledger under them) are opened on first use, and the
    # panes mounted after the first frame are reached by id: a person waits for the
    # Services table, not for them.
    from console.engine.actions import Actions
    from widgets.panes.approvals import ApprovalsPane
    from widgets.panes.audit import AuditPane
    from widgets.panes.logs import LogPane
    from widgets.panes.metrics import MetricsPane
    from widgets.panes.rotation import RotationPane

NOTICES_KEPT = 200
# The top bar's name for who acts on a ledger its server has not answered yet.
UNKNOWN_USER = "unknown until the ledger answers"


class QuorumApp(App[int]):
    """Quorum's terminal console."""

    TITLE = "Quorum"
    CSS_PATH = str(Path(widgets.__file__).parent / "quorum.tcss")
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("question_mark", "help", "Help"),
        # Priority, so the keys typed right after `:` reach the prompt, not the old focus.
        Binding("colon", "prompt(':')", "Command", priority=True),
        Binding("slash", "prompt('/')", "Filter", priority=True),
        Binding("escape", "back", "Back", show=False),
        Binding("ctrl+r", "refresh", "Refresh"),
        Binding("ctrl+l", "rollback", "Rollback"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        session: Session,
        *,
        now: Callable[[], datetime] = utcnow,
        poll_interval: float = 2.0,
        metrics_interval: float = 5.0,
        side_interval: float = 2.0,
        log_cap: int = 10_000,
        identity: Identity | None = None,
        pace: Pace | None = None,
        ledger_unreachable: str | None = None,
    ) -> None:
        """`pace`, when given, sets the three intervals (see console.domain.pace).
        `ledger_unreachable`: why the PostgreSQL ledger was out of reach at start
        (`console.store.backends.starting_identity`): the console opens on its providers
        with the ledger stale, and `identity` unknown until the server answers."""
        super().__init__()
        self.pace = pace or Pace(poll=poll_interval, side=side_interval, metrics=metrics_interval)
        poll_interval, side_interval = self.pace.poll, self.pace.side
        metrics_interval = self.pace.metrics
        self.session = session
        self.now = now
        self.readonly = session.readonly
        self.log_cap = log_cap
        self.identity = identity or current_identity()
        self.ledger_unreachable = ledger_unreachable
        self.guard = ChangeGuard(self.readonly, self._ledger_refusal)
        self.hub = Hub(session, interval=poll_interval, on_update=self._hub_polled)
        self.feeds = Feeds(self, metrics_interval=metrics_interval, side_interval=side_interval)
        self.flows = ConsensusFlows(self)
        self.rotation_forms = RotationForms(self)
        self.prompt = Prompt(
            self,
            {
                "describe": self.action_describe,
                "restart": self.action_restart,
                "scale": self.action_scale,
                "rollback": self.action_rollback,
                "propose": self.flows.propose,
                "silence": self.flows.silence,
                "verify": self.feeds.verify_audit,
                "calendar": self.rotation_forms.calendar,
                "incomplete": self.flows.show_incomplete,
                "messages": self.show_messages,
                "refresh": self.action_refresh,
                "help": self.action_help,
                "quit": lambda: self.exit(0),
            },
        )
        self.notices: deque[str] = deque(maxlen=NOTICES_KEPT)
        self._failures_said: set[str] = set()  # background reads' reasons already toasted
        self._actions: Actions | None = None

    @property
    def actions(self) -> Actions:
        """The engine's actions, opened on first use (they open the audit database)."""
        if self._actions is None:
            from console.engine.actions import Actions

            self._actions = Actions(
                self.session,
                identity=self.identity,
                on_output=self.feeds.deploy_output,
                on_waiting=self._ledger_waiting,
                on_warning=lambda line: self.say(line, error=True, title="warning"),
                on_progress=self.feeds.progress,
                clock=self.now,
                unreachable=self.ledger_unreachable,
            )
        return self._actions

    def _ledger_refusal(self, doing: str) -> str | None:
        """Why `doing` is refused while the ledger shows stale, None while it is in reach."""
        error = self.feeds.ledger_error
        if error is None:
            return None
        from console.engine.guard import out_of_reach

        return str(out_of_reach(self.session.config, doing, error))

    @property
    def selected(self) -> ServiceView | None:
        """The target under the Services cursor, as last shown."""
        return self.feeds.selected

    # ---- the screen and its panes --------------------------------------------------

    def get_default_screen(self) -> Screen:
        return MainScreen(
            now=self.now,
            log_cap=self.log_cap,
            log_scroll=(self.pace.log_scroll, self.pace.log_scroll_focused),
            save_dir=self.session.data_dir / "logs",
            commands=self.prompt.table.completions(),
            on_command=self.prompt.done,
            on_ready=self._panes_mounted,
            on_all=self._others_mounted,
        )

    @property
    def main(self) -> MainScreen:
        if not self.screen_stack:  # closing: a message posted before the quit arrives after it
            raise NoMatches("the console is closing")
        screen = self.screen_stack[0]  # the default screen stays at the bottom of the stack
        assert isinstance(screen, MainScreen)
        return screen

    def pane(self, name: str) -> Pane:
        return self.main.query_one(f"#{name}", Pane)

    @property
    def services(self) -> ServicesPane:
        return self.main.query_one(ServicesPane)

    @property
    def logs(self) -> LogPane:
        return cast("LogPane", self.pane("logs"))

    @property
    def metrics(self) -> MetricsPane:
        return cast("MetricsPane", self.pane("metrics"))

    @property
    def approvals_pane(self) -> ApprovalsPane:
        return cast("ApprovalsPane", self.pane("approvals"))

    @property
    def rotation_pane(self) -> RotationPane:
        return cast("RotationPane", self.pane("rotation"))

    @property
    def audit_pane(self) -> AuditPane:
        return cast("AuditPane", self.pane("audit"))

    # ---- start and stop -----------------------------------------------------------

    def on_mount(self) -> None:
        # The first polls run while the screen mounts its panes, so the targets are
        # there for its first frames instead of one poll later.
        self.hub.start()

    def _panes_mounted(self) -> None:
        guard_panes(self)
        self.services.table.focus()
        self.feeds.panes_mounted()

    def _others_mounted(self) -> None:
        guard_panes(self)
        self.prompt.read_panes(self.main)
        self.feeds.others_mounted()

    async def on_unmount(self) -> None:
        collector.let_back()  # the process may go on (a test run): leave it as found
        await self.hub.stop()
        await self.session.close()
        if self._actions is not None:
            self._actions.close()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed worker is a one-line notice; the console carries on. It is named by
        its group (`catch-up`, `side`...): Textual names an unnamed worker after its
        coroutine, a function's name no one at the console should read."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.say_failed(f"{event.worker.group} failed", event.worker.error)

    # ---- notices ------------------------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A toast, also kept in `notices` (`:messages`): a toast missed is not lost."""
        self.record(message, title=title)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def record(self, message: str, *, title: str = "") -> None:
        """Kept for `:messages` without a toast: the detail behind a summary toast."""
        self.notices.append(f"{self.now():%H:%M:%S} {title + ': ' if title else ''}{message}")

    def say(self, message: str, *, error: bool = False, title: str = "") -> None:
        """A notification with backend text made inert and never parsed as markup."""
        self.notify(
            neutralise(message),
            title=neutralise(title),
            severity="error" if error else "information",
            markup=False,
        )

    def say_failed(self, doing: str, reason: BaseException | str) -> None:
        """A background read failed (`doing`: what it was, as a person says it). Every
        read a console starts with meets the same refusal when its role is no member:
        one toast per reason while it holds, and every line in `:messages`."""
        line = f"{doing}: {reason}"
        if str(reason) in self._failures_said:
            self.record(neutralise(line))
            return
        self._failures_said.add(str(reason))
        self.say(line, error=True)

    def failures_over(self) -> None:
        """A background read succeeded: a reason that comes back is news again."""
        self._failures_said.clear()

    def _ledger_waiting(self) -> None:
        """A ledger call waits (another process holds the audit database's write lock):
        said when a change is under way; the panes' own reads just show later."""
        if self.flows.changing:
            self.say(
                "waiting for the audit database (another Quorum process may hold its write"
                " lock); the change goes ahead when it is free"
            )

    def show_messages(self) -> None:
        from widgets.dialogs.modals import PickScreen

        lines = [(str(i), text) for i, text in enumerate(reversed(self.notices))]
        note = "The latest notifications, newest first." if lines else "No notifications yet."
        self.push_screen(PickScreen("messages", lines, note=note, hint="↑↓: scroll · Esc: close"))

    # ---- the hub and the panes' messages -----------------------------------------

    def _hub_polled(self, state: ProviderState) -> None:
        """Called by the hub after each poll: the states travel in one message, and a
        burst of polls merges into the newest (HubChanged.can_replace)."""
        self.post_message(HubChanged(dict(self.hub.states)))

    def on_hub_changed(self, message: HubChanged) -> None:
        try:
            self.feeds.show_states(message.states)
        except NoMatches:
            return  # the panes are gone while shutting down
        except Exception as exc:  # a rendering bug must not stop the console
            self.say(f"could not show the providers' targets: {exc}", error=True)

    def on_services_pane_selected(self, event: ServicesPane.Selected) -> None:
        if event.key is not None:
            self.feeds.select(event.key)

    def on_log_pane_stream_changed(self, event: LogPane.StreamChanged) -> None:
        self.feeds.follow_logs()

    def on_log_pane_containers_wanted(self, event: LogPane.ContainersWanted) -> None:
        self.run_worker(self.feeds.next_container(), group="containers", exclusive=True)

    def on_audit_pane_verify_requested(self, event: AuditPane.VerifyRequested) -> None:
        self.feeds.verify_audit()

    def on_audit_pane_record_requested(self, event: AuditPane.RecordRequested) -> None:
        """Enter in Audit: the record with every field, in one kept dialog."""
        from console.tui.views import audit_fields
        from widgets.dialogs.record import RecordScreen

        record = self.audit_pane.records.get(event.seq)
        if record is None:
            return
        title = f"audit record {record.seq}"
        fields = audit_fields(record)
        if not self.is_screen_installed("audit-record"):
            self.install_screen(RecordScreen(title, fields), "audit-record")
        screen = self.get_screen("audit-record")
        assert isinstance(screen, RecordScreen)
        screen.show(title, fields)
        self.push_screen(screen)

    def on_approvals_pane_propose_requested(self, event: ApprovalsPane.ProposeRequested) -> None:
        self.flows.propose()

    def on_approvals_pane_vote_requested(self, event: ApprovalsPane.VoteRequested) -> None:
        self.flows.vote(event.pid, event.approve, event.version)

    def on_approvals_pane_provider_vote_requested(
        self, event: ApprovalsPane.ProviderVoteRequested
    ) -> None:
        self.flows.provider_vote(event.approval_id, event.approve)

    def on_approvals_pane_override_requested(self, event: ApprovalsPane.OverrideRequested) -> None:
        self.flows.override(event.pid, event.what)

    def on_approvals_pane_review_requested(self, event: ApprovalsPane.ReviewRequested) -> None:
        self.flows.review(event.pid, event.what)

    def on_rotation_pane_calendar_requested(self, event: RotationPane.CalendarRequested) -> None:
        self.rotation_forms.calendar()

    def on_rotation_pane_override_requested(self, event: RotationPane.OverrideRequested) -> None:
        self.rotation_forms.override(event.rotation)

    def on_rotation_pane_swap_offer_requested(self, event: RotationPane.SwapOfferRequested) -> None:
        self.rotation_forms.offer_swap(event.rotation)

    def on_rotation_pane_swap_take_requested(self, event: RotationPane.SwapTakeRequested) -> None:
        self.rotation_forms.take_swap()

    # ---- the chrome -----------------------------------------------------------------

    def paint_chrome(self) -> None:
        scope = []
        if self.prompt.environment:
            scope.append(f"env={self.prompt.environment}")
        if self.prompt.provider:
            scope.append(f"provider={self.prompt.provider}")
        wide = self.main.wide
        clock = self.now().strftime(
            self.pace.clock_format if wide else self.pace.short_clock_format
        )
        self.main.query_one(TopBar).show(
            team=self.session.config.team_name,
            user=self.identity.name or UNKNOWN_USER,
            scope=" ".join(scope),
            panes=[] if wide else list(LOWER),
            current=self.main.lower,
            readonly=self.readonly,
            sandbox=self.session.config.sandbox,
            room=self.main.size.width - len(clock) - 1 if self.main.size.width else None,
        )
        self.main.query_one(Clock).show(clock)

    # ---- keys -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "prompt" and not prompt_allowed(self, MainScreen):
            return False  # a `:` or `/` typed into a field is text
        return self.guard.allows(self, action)

    def on_key(self, event: events.Key) -> None:
        """A mutating key in read-only mode reached nobody: say why instead of nothing."""
        refusal = self.guard.refusal(self.focused, self, event.key)
        if refusal is not None:
            self.say(refusal, error=True)
            event.stop()

    def action_prompt(self, mode: str) -> None:
        self.prompt.open(mode)

    def focus_pane(self, name: str) -> None:
        self.prompt.focus_pane(name)

    def action_show_pane(self, name: str) -> None:
        self.focus_pane(name)

    def action_cycle_pane(self, step: int) -> None:
        self.prompt.cycle(step)

    def action_show_logs(self) -> None:
        self.focus_pane("logs")

    def action_back(self) -> None:
        """Esc: clear the focused pane's filter, else go back to Services."""
        pane = focused_pane(self)
        if pane is not None and getattr(pane, "filter_text", ""):
            pane.set_filter("")
            return
        if pane is not self.services:
            self.focus_pane("services")

    def action_refresh(self) -> None:
        self.hub.refresh_now()
        self.feeds.refollow()
        self.feeds.refresh_side(force=True)
        self.say("refreshing every provider")

    def action_help(self) -> None:
        show_help(self, self.readonly)

    def action_restart(self) -> None:
        self.flows.restart()

    def action_scale(self) -> None:
        self.flows.scale()

    def action_rollback(self) -> None:
        self.flows.rollback()

    def action_describe(self) -> None:
        self.flows.describe()

    def action_canary(self) -> None:
        self.flows.canary()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The `:` commands, also in the command palette (ctrl+p)."""
        yield from super().get_system_commands(screen)
        yield from self.prompt.palette()


def run_tui(args: argparse.Namespace) -> int:
    """`quorum` with no command: open the session and run the console until quit."""
    session = open_session(args, postgres_ready=True)
    who, unreachable = None, None
    if session.config.ledger is not None:
        from console.store.backends import starting_identity

        # The role the server authenticates: every act the console writes is that
        # role's, so that is who the panes say "you" of (unknown while out of reach).
        who, unreachable = starting_identity(session.config)
    app = QuorumApp(
        session,
        pace=pace_for(bool(getattr(args, "slow_link", False)), os.environ),
        identity=who,
        ledger_unreachable=unreachable,
    )
    result = app.run()
    return int(result or 0)
