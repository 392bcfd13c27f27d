"""The Textual console: wires the hub, the providers and the core to the panes.

The only module of `console/` that imports Textual. Widgets render model objects
and post messages; this app is where those messages reach providers, the audit
log, the rotation schedule and the consensus engine, always through the same core
functions the command line uses. The clock is injected (`now`), so a paused
sandbox and a fixed clock give the same screen on every run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, cast

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import Worker, WorkerState

import widgets
from console.domain.errors import QuorumError
from console.domain.identity import Identity, current_identity
from console.domain.inert import neutralise
from console.domain.model import LogLine, Series, TargetRef, utcnow
from console.engine.hub import Hub, ProviderState, TargetRow
from console.engine.session import Session, open_session
from providers.base import Capability, Provider, ProviderError
from widgets.chrome import Clock, CommandBar, ProviderLine, ProviderStatus, TopBar
from widgets.main import LOWER, MainScreen
from widgets.pane import Pane
from widgets.services import ServicesPane, ServiceView

if TYPE_CHECKING:
    # The consensus, audit, rotation and notification modules (and sqlite-utils and
    # httpx under them) are imported where they are first used, after the first
    # paint: a person waits for the Services table, not for them. So are the widget
    # modules of the panes mounted after the first frame; they are reached by id.
    from console.domain.consensus import Kind
    from console.engine.actions import Actions, Outcome, ProposalView
    from console.notify.sinks import Notice
    from console.store.audit import AuditLog
    from widgets.approvals import ApprovalsPane, ApprovalView
    from widgets.audit import AuditPane
    from widgets.help import HelpEntry
    from widgets.logs import LogPane
    from widgets.metrics import MetricsPane
    from widgets.rotation import RotationPane

METRICS_WINDOW = timedelta(minutes=15)
NOTICES_KEPT = 200
RECENT = timedelta(minutes=30)  # settled proposals stay in Approvals this long
START_WAIT = 0.5  # seconds the rest of the start waits for a first target to paint
PANE_COMMANDS = {
    "svc": "services",
    "services": "services",
    "service": "services",
    "deploy": "services",
    "logs": "logs",
    "log": "logs",
    "metrics": "metrics",
    "metric": "metrics",
    "approvals": "approvals",
    "apr": "approvals",
    "proposals": "approvals",
    "rotation": "rotation",
    "rot": "rotation",
    "oncall": "rotation",
    "audit": "audit",
    "aud": "audit",
}
COMMANDS = [
    *PANE_COMMANDS,
    "env",
    "provider",
    "ctx",
    "calendar",
    "incomplete",
    "messages",
    "refresh",
    "help",
    "quit",
]


def _parse_when(text: str) -> datetime:
    """An ISO date or date-time typed in a form; naive means UTC."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        hint = "use 2026-12-01 or 2026-12-01T09:00"
        raise QuorumError(f"not a date or time: {text!r} ({hint})") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


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
    # Bound here (rollback) or in the Services pane as `app.restart` / `app.scale`.
    MUTATING: frozenset[str] = frozenset({"rollback", "restart", "scale"})

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
    ) -> None:
        super().__init__()
        self.session = session
        self.now = now
        self.readonly = session.readonly
        self.metrics_interval = metrics_interval
        self.side_interval = side_interval
        self.log_cap = log_cap
        self.identity = identity or current_identity()
        self.hub = Hub(session, interval=poll_interval, on_update=self._on_hub_update)
        self.environment: str | None = None
        self.provider_scope: str | None = None
        self.selected: TargetRow | None = None
        self._followed: str | None = None
        self._filter_target: Pane | None = None
        self._audit: AuditLog | None = None
        self._last_rotation = datetime.min.replace(tzinfo=UTC)
        self.notices: deque[str] = deque(maxlen=NOTICES_KEPT)
        self._actions: Actions | None = None
        self._started = False
        self._panes_ready = False
        self._others_ready = False

    @property
    def actions(self) -> Actions:
        """The consensus actions, opened on first use (they open the audit database)."""
        if self._actions is None:
            from console.engine.actions import Actions

            self._actions = Actions(
                self.session, identity=self.identity, on_output=self._deploy_output, clock=self.now
            )
        return self._actions

    # ---- start and stop ---------------------------------------------------------

    def get_default_screen(self) -> Screen:
        return MainScreen(
            now=self.now,
            log_cap=self.log_cap,
            save_dir=self.session.data_dir / "logs",
            commands=[f"{c} " if c in ("env", "provider", "ctx") else c for c in COMMANDS],
            on_command=self.command_done,
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

    def on_mount(self) -> None:
        # The first polls run while the screen mounts its panes, so the targets are
        # there for its first frames instead of one poll later.
        self.hub.start()

    def _panes_mounted(self) -> None:
        for pane in self.main.query(Pane):
            pane.readonly = self.readonly
        self.services.table.focus()
        self._panes_ready = True
        self._paint_chrome()
        self._apply_rows()  # what the first polls brought while the panes mounted

    def _others_mounted(self) -> None:
        """The panes mounted after the first frame are there: what they show can start.

        What the first paint does not need (the selected target's log and metrics, the
        side panes, which read SQLite files) starts once the first targets are on screen,
        or after a short wait when no provider has answered yet; never before the panes
        it feeds are mounted and laid out.
        """
        for pane in self.main.query(Pane):
            pane.readonly = self.readonly
        self._others_ready = True
        if not gc.isenabled():  # paused by `quorum` for the start: see console.cli.main
            gc.enable()
        if self._rows:
            self.call_after_refresh(self._start)
        self.set_timer(START_WAIT, self._start)

    def _start(self) -> None:
        if self._started or not self._others_ready:
            return
        self._started = True
        if self.selected is not None:
            self._follow_logs()
            self._watch_metrics()
        self._refresh_side(force=True)
        self.set_interval(1.0, self._tick)
        self.set_interval(self.side_interval, self._refresh_side)
        self.set_interval(self.side_interval, self._step_teammates)
        self.call_after_refresh(self.show_incomplete)

    async def on_unmount(self) -> None:
        await self.hub.stop()
        await self.session.close()
        if self._audit is not None:
            self._audit.close()
        if self._actions is not None:
            self._actions.close()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed worker is a one-line notice; the console carries on."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.say(f"{event.worker.name or 'task'} failed: {event.worker.error}", error=True)

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
        self.notices.append(f"{self.now():%H:%M:%S} {title + ': ' if title else ''}{message}")
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def show_messages(self) -> None:
        from widgets.modals import PickScreen

        lines = [(str(i), text) for i, text in enumerate(reversed(self.notices))]
        note = "The latest notifications, newest first." if lines else "No notifications yet."
        self.push_screen(PickScreen("messages", lines, note=note))

    def say(self, message: str, *, error: bool = False, title: str = "") -> None:
        """A notification with backend text made inert and never parsed as markup."""
        self.notify(
            neutralise(message),
            title=neutralise(title),
            severity="error" if error else "information",
            markup=False,
        )

    # ---- the hub ----------------------------------------------------------------

    def _on_hub_update(self, state: ProviderState) -> None:
        if not self._panes_ready:
            return  # the panes are still mounting; _panes_mounted shows what arrived
        try:
            self._apply_rows()
        except NoMatches:
            return  # the panes are gone while shutting down
        except Exception as exc:  # a rendering bug must not stop the provider's loop
            self.say(f"could not show {state.name}: {exc}", error=True)

    def _apply_rows(self) -> None:
        config = self.session.config
        rows = self.hub.rows()
        self._rows = {row.key: row for row in rows}
        views = [
            ServiceView(
                target=row.target,
                health=row.health,
                stale=row.stale,
                thresholds=config.thresholds_for(row.target.ref.service),
            )
            for row in rows
        ]
        self.services.update_views(views)
        self._paint_status()
        if rows and not self._started:
            self.call_after_refresh(self._start)
        if self.selected is None and self.services.table.cursor_key:
            self._select(self.services.table.cursor_key)

    def _paint_status(self) -> None:
        lines = []
        for state in self.hub.states.values():
            if state.broken:
                kind = "broken"
            elif state.error is not None:
                kind = "stale"
            elif state.snapshot is None:
                kind = "waiting"
            else:
                kind = "ok"
            lines.append(
                ProviderLine(state.name, state.kind, kind, state.error or "", state.last_ok)
            )
        self.main.query_one(ProviderStatus).show(lines, utcnow())

    def _paint_chrome(self) -> None:
        scope = []
        if self.environment:
            scope.append(f"env={self.environment}")
        if self.provider_scope:
            scope.append(f"provider={self.provider_scope}")
        wide = self.main.wide
        self.main.query_one(TopBar).show(
            team=self.session.config.team_name,
            user=self.identity.name,
            scope=" ".join(scope),
            panes=[] if wide else list(LOWER),
            current=self.main.lower,
            readonly=self.readonly,
        )
        clock = self.now().strftime("%Y-%m-%d %H:%M:%S UTC" if wide else "%H:%M:%S")
        self.main.query_one(Clock).show(clock)

    def _tick(self) -> None:
        with contextlib.suppress(NoMatches):  # the panes are gone while shutting down
            self._paint_chrome()
            self.rotation_pane.tick()

    # ---- selection: logs and metrics follow the cursor -------------------------

    def on_services_pane_selected(self, event: ServicesPane.Selected) -> None:
        if event.key is not None:
            self._select(event.key)

    def _select(self, key: str) -> None:
        row = getattr(self, "_rows", {}).get(key)
        if row is None:
            return
        self.selected = row
        if key == self._followed:
            return
        self._followed = key
        if self._started:  # else the first paint comes first; then _start follows it
            with contextlib.suppress(NoMatches):  # the panes are gone while shutting down
                self._follow_logs()
                self._watch_metrics()

    def _provider_of(self, ref: TargetRef) -> Provider | None:
        return self.session.providers.get(ref.provider)

    def _follow_logs(self) -> None:
        if self.selected is None:
            return
        ref = self.selected.target.ref
        provider = self._provider_of(ref)
        factory = None
        if provider is not None and provider.can(Capability.LOGS):

            def factory(
                since: timedelta | None, tail: int | None, container: str | None, previous: bool
            ) -> AsyncIterator[LogLine]:
                return _stream(provider, ref, since, tail, container, previous)

        self.logs.follow(f"{ref.service}@{ref.environment}", factory)

    def _watch_metrics(self) -> None:
        if self.selected is None:
            return
        ref = self.selected.target.ref
        provider = self._provider_of(ref)
        fetch = None
        if provider is not None and provider.can(Capability.METRICS):
            timeout = self.hub.timeout

            async def fetch() -> list[Series]:
                async with asyncio.timeout(timeout):  # not wait_for: see Hub.poll
                    return await provider.metrics(ref, METRICS_WINDOW)

        thresholds = self.session.config.thresholds_for(ref.service)
        self.metrics.watch(
            f"{ref.service}@{ref.environment} · last 15m", fetch, thresholds, self.metrics_interval
        )

    def on_log_pane_stream_changed(self, event: LogPane.StreamChanged) -> None:
        self._follow_logs()

    def on_log_pane_containers_wanted(self, event: LogPane.ContainersWanted) -> None:
        if self.selected is None:
            return
        ref = self.selected.target.ref
        provider = self._provider_of(ref)
        if provider is None:
            return
        self.run_worker(self._step_container(provider, ref), group="containers", exclusive=True)

    async def _step_container(self, provider: Provider, ref: TargetRef) -> None:
        """The containers of the target's pods (or tasks), from the provider's details."""
        try:
            async with asyncio.timeout(self.hub.timeout):  # not wait_for: see Hub.poll
                details = await provider.details(ref)
        except (ProviderError, TimeoutError) as exc:
            self.say(f"no container list for {ref.service}@{ref.environment}: {exc}")
            return
        if self.selected is None or self.selected.target.ref != ref:
            return  # the cursor moved on while the provider answered
        names = sorted({name for pod in details.pods for name in pod.containers})
        self.logs.next_container(names)

    # ---- side panes: audit and rotation ----------------------------------------

    def _refresh_side(self, force: bool = False) -> None:
        with contextlib.suppress(NoMatches):  # the panes are gone while shutting down
            self._refresh_audit()
            self._refresh_approvals()
            if force or self.now() - self._last_rotation >= timedelta(seconds=30):
                self._refresh_rotation()

    def _audit_log(self) -> AuditLog:
        if self._audit is None:
            from console.store.audit import AuditLog

            self._audit = AuditLog(self.session.audit_path)
        return self._audit

    def _refresh_audit(self) -> None:
        pane = self.audit_pane
        try:
            log = self._audit_log()
            records = log.since(pane.last_seq) if pane.last_seq else log.tail(200)
        except Exception as exc:  # an unreadable log is a status, not a crash
            pane.set_status(f"cannot read the audit log: {exc}")
            return
        if records or not pane.records:
            pane.add(records)

    def _refresh_rotation(self) -> None:
        from console.rotation import changes as rotation_actions
        from console.rotation import schedule as rotation

        pane = self.rotation_pane
        self._last_rotation = self.now()
        config = self.session.config
        try:
            slots = rotation.slots_at(config, self.now(), self.session.audit_path)
            swaps = rotation_actions.open_swaps(config, self.session.audit_path, self.now())
        except Exception as exc:  # a schedule error is shown on the pane
            pane.set_status(f"schedule error: {exc}")
            return
        pane.show(slots, len(swaps))

    def _refresh_approvals(self) -> None:
        from console.domain.consensus import State  # after the first frame, like the panes it fills

        pane = self.approvals_pane
        try:
            views = {v.id: v for v in self.actions.open_proposals()}
            for view in self.actions.awaiting_review():
                views.setdefault(view.id, view)
            # Recently settled ones stay a while, so a vote's outcome is seen where it was cast.
            cutoff = self.now() - RECENT
            for proposal in self.actions.proposals.list(
                (State.EXECUTED, State.FAILED, State.WITHDRAWN)
            ):
                if proposal.updated_at >= cutoff:
                    views.setdefault(proposal.id, self.actions.view(proposal))
        except QuorumError as exc:
            pane.set_status(f"cannot read proposals: {exc}")
            return
        pane.show([approval_view(v) for v in sorted(views.values(), key=lambda v: v.id)])

    def _step_teammates(self) -> None:
        """The sandbox's simulated teammates vote, so one person sees consensus form."""
        if self.session.config.simulated_teammates:
            self.run_worker(
                self._teammates(), group="teammates", exclusive=False, exit_on_error=False
            )

    async def _teammates(self) -> None:
        from console.engine.sandbox_teammates import sandbox_teammates_vote

        for vote in await sandbox_teammates_vote(self.actions, self.now()):
            self.say(vote.describe(), title="consensus")
        self._refresh_approvals()
        self._refresh_audit()

    def _deploy_output(self, text: str) -> None:
        """A team deploy command's output, shown in the log view as it runs."""
        self.logs.view.push([LogLine(ts=self.now(), text=text, source="deploy")])

    def on_audit_pane_verify_requested(self, event: AuditPane.VerifyRequested) -> None:
        self._verify_audit()

    @work(thread=True, exclusive=True, group="audit-verify", exit_on_error=False)
    def _verify_audit(self) -> None:
        from console.store.audit import AuditLog

        log = AuditLog(self.session.audit_path)
        try:
            result = log.verify()
        finally:
            log.close()
        verdict = (
            f"chain intact: {result.checked} records verified"
            if result.ok
            else f"VERIFY FAILED: {result.reason}"
        )
        self.call_from_thread(self._show_verdict, verdict, result.ok)

    def _show_verdict(self, verdict: str, ok: bool) -> None:
        self.audit_pane.set_verdict(verdict)
        self.say(verdict, error=not ok, title="audit")

    # ---- pane requests (keys a pane offers but only the app can carry out) -----

    def on_pane_requested(self, event: Pane.Requested) -> None:
        handler = getattr(self, f"request_{event.pane.id}_{event.what}", None) or getattr(
            self, f"request_{event.what}", None
        )
        if handler is None:
            self.say(f"{event.what}: not available in this console yet", error=True)
            return
        handler()

    def request_calendar(self) -> None:
        from console.rotation import schedule as rotation

        config = self.session.config
        path = self.session.audit_path

        def load(year: int, month: int) -> list:
            return rotation.month_grid(config, year, month, path)

        from widgets.rotation import CalendarScreen

        names = [r.name for r in config.rotations]
        self.push_screen(CalendarScreen(load, names, self.now().date()))

    def _rotation_names(self) -> list[str]:
        return [r.name for r in self.session.config.rotations]

    def _selected_rotation(self) -> str:
        pane = self.rotation_pane
        names = self._rotation_names()
        return pane.selected or (names[0] if names else "")

    def request_rotation_override(self) -> None:
        """`o` in the Rotation pane: put someone on a rotation for a span, with a reason."""
        from console.engine.rotation_changes import recorder
        from console.rotation import changes as rotation_actions
        from widgets.modals import Field, FormScreen

        now = self.now()
        names = self._rotation_names()
        fields = [
            Field("rotation", "Rotation:", self._selected_rotation(), ", ".join(names)),
            Field("who", "Who holds it:", self.identity.name),
            Field("starts", "From (UTC):", now.strftime("%Y-%m-%dT%H:%M")),
            Field("ends", "To (UTC):", (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")),
            Field("reason", "Reason (required):"),
        ]

        def done(values: dict[str, str] | None) -> None:
            if not values:
                return
            self._rotation_change(
                lambda: rotation_actions.create_override(
                    self.session.config,
                    values["rotation"],
                    values["who"],
                    _parse_when(values["starts"]),
                    _parse_when(values["ends"]),
                    values["reason"],
                    self.session.audit_path,
                    by=self.identity.name,
                    now=self.now(),
                    record=recorder(self.actions),
                ),
                "override recorded",
            )

        self.push_screen(FormScreen("rotation override", fields), done)

    def request_offer_swap(self) -> None:
        """`w` in the Rotation pane: offer part of one's own time for someone to take."""
        from console.engine.rotation_changes import recorder
        from console.rotation import changes as rotation_actions
        from widgets.modals import Field, FormScreen

        now = self.now()
        fields = [
            Field("rotation", "Rotation:", self._selected_rotation()),
            Field("starts", "From (UTC):", now.strftime("%Y-%m-%dT%H:%M")),
            Field("ends", "To (UTC):", (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")),
            Field("reason", "Reason:", required=False),
        ]

        def done(values: dict[str, str] | None) -> None:
            if not values:
                return
            self._rotation_change(
                lambda: rotation_actions.request_swap(
                    self.session.config,
                    values["rotation"],
                    _parse_when(values["starts"]),
                    _parse_when(values["ends"]),
                    self.session.audit_path,
                    reason=values["reason"],
                    by=self.identity.name,
                    now=self.now(),
                    record=recorder(self.actions),
                ),
                "swap offered",
            )

        self.push_screen(FormScreen("offer a swap", fields), done)

    def request_take_swap(self) -> None:
        """`t` in the Rotation pane: take one of the swaps others offer."""
        from console.engine.rotation_changes import recorder
        from console.rotation import changes as rotation_actions
        from widgets.modals import PickScreen

        try:
            swaps = rotation_actions.open_swaps(
                self.session.config, self.session.audit_path, self.now()
            )
        except QuorumError as exc:
            self.say(str(exc), error=True)
            return
        if not swaps:
            self.say("no open swap to take")
            return
        options = [
            (
                s.id,
                f"{s.rotation}: {s.requested_by} offers {s.starts_at:%b %d %H:%M}"
                f" to {s.ends_at:%b %d %H:%M}" + (f" ({s.reason})" if s.reason else ""),
            )
            for s in swaps
        ]

        def done(swap_id: str | None) -> None:
            if swap_id:
                self._rotation_change(
                    lambda: rotation_actions.take_swap(
                        self.session.config,
                        swap_id,
                        self.session.audit_path,
                        by=self.identity.name,
                        now=self.now(),
                        record=recorder(self.actions),
                    ),
                    "swap taken",
                )

        self.push_screen(PickScreen("take a swap", options), done)

    def _rotation_change(self, change: Callable[[], object], done: str) -> None:
        """Make a schedule change (audited by rotation_actions), then tell the team."""
        try:
            made = change()
        except QuorumError as exc:
            self.say(str(exc), error=True)
            return
        self.say(done, title="rotation")
        self._refresh_rotation()
        self._refresh_audit()
        if self.session.config.notify:
            from console.notify.sinks import Notice

            notice = Notice(f"{made.rotation}: {done}", f"{self.identity.name}: {_span(made)}")
            self.run_worker(self._tell_team(notice), group="notify", exit_on_error=False)

    async def _tell_team(self, notice: Notice) -> None:
        from console.rotation.notify import tell_team

        errors = await tell_team(
            self.session.config, self.session.audit_path, notice, self.identity.name
        )
        for error in errors:
            self.say(f"notice not delivered: {error}", error=True)

    # ---- consensus: proposals, votes, overrides, reviews, rollbacks ---------------

    def _run_change(self, change: Callable[[], Awaitable[object]], done: str) -> None:
        """Run an action coroutine as a worker; its errors become one-line notices."""

        from console.engine.actions import NeedsConsensus

        async def run() -> None:
            try:
                result = await change()
            except NeedsConsensus as exc:
                self.say(str(exc), title="proposal opened")
            except (QuorumError, ProviderError) as exc:
                self.say(str(exc), error=True)
            else:
                self.say(_describe_result(done, result), title="consensus")
            self._refresh_approvals()
            self._refresh_audit()
            self.hub.refresh_now()

        self.run_worker(run(), group="actions", exit_on_error=False)

    def _selected_proposal(self) -> ApprovalView | None:
        item = self.approvals_pane.selected
        if item is None:
            self.say("no proposal selected")
            return None
        if item.proposal_id is None:
            self.say(f"{item.what} is answered in its own provider, not in Quorum")
            return None
        return item

    def request_new(self) -> None:
        """`n`: propose a deploy of the selected target, the revision from its history."""
        if self.selected is None:
            self.say("select a target in services first, then press n here")
            return
        ref = self.selected.target.ref
        self._pick_revision(ref, f"deploy {ref.service}@{ref.environment} to", self._ask_reason)

    def _pick_revision(
        self, ref: TargetRef, title: str, then: Callable[[TargetRef, str], None]
    ) -> None:
        from widgets.modals import PickScreen

        provider = self._provider_of(ref)
        if provider is None or not provider.can(Capability.REVISIONS):
            self.say(f"{ref.provider} keeps no revision history for {ref.service}")
            return

        async def load() -> None:
            try:
                async with asyncio.timeout(self.hub.timeout):
                    revisions = await provider.revisions(ref)
            except (ProviderError, TimeoutError) as exc:
                self.say(f"revisions of {ref}: {exc}", error=True)
                return
            if not revisions:
                self.say(f"{ref} has no revision history")
                return
            options = [
                (
                    r.id,
                    f"{r.id}{'  (current)' if r.current else ''}"
                    + (f"  {r.created_at:%Y-%m-%d %H:%M}" if r.created_at else "")
                    + (f"  {r.description}" if r.description else ""),
                )
                for r in revisions
            ]

            def picked(revision: str | None) -> None:
                if revision:
                    then(ref, revision)

            self.push_screen(PickScreen(title, options), picked)

        self.run_worker(load(), group="revisions", exclusive=True, exit_on_error=False)

    def _ask_reason(self, ref: TargetRef, revision: str) -> None:
        from console.domain.consensus import Kind
        from widgets.modals import Field, FormScreen

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self._run_change(
                    lambda: self.actions.propose(
                        Kind.DEPLOY, ref, revision=revision, reason=values["reason"]
                    ),
                    "proposed",
                )

        policy = self.session.config.policy(ref.environment)
        note = (
            f"{ref.environment} needs {policy.min_approvals} approval(s)"
            if policy.min_approvals
            else f"{ref.environment} needs no vote: this deploys at once"
        )
        fields = [Field("reason", "Reason:", required=False)]
        self.push_screen(FormScreen(f"deploy {ref} to {revision}", fields, note), done)

    def request_approve(self) -> None:
        item = self._selected_proposal()
        if item is not None:
            pid = item.proposal_id
            self._run_change(lambda: self.actions.vote(pid, True), f"approved proposal {pid}")

    def request_reject(self) -> None:
        from widgets.modals import Field, FormScreen

        item = self._selected_proposal()
        if item is None:
            return
        pid = item.proposal_id

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self._run_change(
                    lambda: self.actions.vote(pid, False, values["comment"]),
                    f"rejected proposal {pid}",
                )

        fields = [Field("comment", "Why (comment):")]
        self.push_screen(FormScreen(f"reject: {item.what}", fields), done)

    def request_override(self) -> None:
        """`o` in Approvals: the emergency override, with a reason and the target's name."""
        from widgets.modals import ConfirmScreen, Field, FormScreen

        item = self._selected_proposal()
        if item is None:
            return
        pid = item.proposal_id
        view = self.actions.get(pid)
        name = view.proposal.ref.service

        def confirmed(ok: bool | None, reason: str) -> None:
            if ok:
                self._run_change(
                    lambda: self.actions.override(pid, reason), f"overrode proposal {pid}"
                )

        def reasoned(values: dict[str, str] | None) -> None:
            if values is not None:
                reason = values["reason"]
                question = (
                    f"Emergency override of {item.what}: it runs now, the team is notified "
                    "and it waits for review by someone else."
                )
                self.push_screen(
                    ConfirmScreen(question, expect=name), lambda ok: confirmed(ok, reason)
                )

        fields = [Field("reason", "Reason (required, goes to the audit log):")]
        self.push_screen(FormScreen(f"override: {item.what}", fields), reasoned)

    def request_review(self) -> None:
        from widgets.modals import Field, FormScreen

        item = self.approvals_pane.selected
        if item is None or not item.awaiting_review:
            queue = list(self.approvals_pane.items.values())
            waiting = [i for i in queue if i.awaiting_review]
            if not waiting:
                self.say("no override waits for review")
                return
            item = waiting[0]
        pid = item.proposal_id

        def done(values: dict[str, str] | None) -> None:
            if values is not None:
                self._run_change(
                    lambda: self.actions.review(pid, values["comment"]),
                    f"reviewed override of proposal {pid}",
                )

        fields = [Field("comment", "Review comment:", required=False)]
        self.push_screen(FormScreen(f"review override: {item.what}", fields), done)

    def _offer(self, kind: Kind, then: Callable[[TargetRow], None]) -> None:
        """Opens a change's dialog for the selected target only when its provider can make
        the change and the backend's access review allows it; otherwise says why in one
        line. A dialog the credentials could never carry out is not worth filling in."""
        if self.selected is None:
            self.say("select a target in services first")
            return
        row = self.selected
        ref = row.target.ref
        what = f"{kind.value} {ref.service}@{ref.environment}"

        async def check() -> None:
            try:
                async with asyncio.timeout(self.hub.timeout):  # not wait_for: see Hub.poll
                    reason = await self.actions.denied(ref, kind)
            except TimeoutError:
                self.say(f"cannot {what}: {ref.provider}'s access check timed out", error=True)
                return
            except (QuorumError, ProviderError) as exc:
                self.say(f"cannot {what}: {exc}", error=True)
                return
            if reason:
                self.say(f"cannot {what}: {ref.provider} denies it: {reason}", error=True)
                return
            then(row)

        self.run_worker(check(), group="access", exclusive=True, exit_on_error=False)

    def action_restart(self) -> None:
        """`r` in Services: restart the selected target (production asks for its name)."""
        from console.domain.consensus import Kind

        self._offer(Kind.RESTART, self._confirm_restart)

    def _confirm_restart(self, row: TargetRow) -> None:
        from widgets.modals import ConfirmScreen

        ref = row.target.ref

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._run_change(
                    lambda: self.actions.restart(ref),
                    f"restarted {ref.service}@{ref.environment}",
                )

        from console.engine.actions import needs_votes

        policy = self.session.config.policy(ref.environment)
        votes = "it needs consensus: a proposal opens" if needs_votes(policy) else "no vote"
        question = f"Restart every replica of {ref.service}@{ref.environment}? ({votes})"
        expect = ref.service if ref.environment == "production" else None
        self.push_screen(ConfirmScreen(question, expect=expect), confirmed)

    def action_scale(self) -> None:
        """`s` in Services: scale the selected target to a number of replicas."""
        from console.domain.consensus import Kind

        self._offer(Kind.SCALE, self._ask_replicas)

    def _ask_replicas(self, row: TargetRow) -> None:
        from widgets.modals import Field, FormScreen

        ref = row.target.ref

        def done(values: dict[str, str] | None) -> None:
            if values is None:
                return
            text = values["replicas"]
            if not (text.isascii() and text.isdigit()):
                self.say(f"replicas must be a whole number of 0 or more, not {text!r}", error=True)
                return
            replicas = int(text)
            self._run_change(
                lambda: self.actions.scale(ref, replicas),
                f"scaled {ref.service}@{ref.environment} to {replicas}",
            )

        from console.engine.actions import needs_votes

        policy = self.session.config.policy(ref.environment)
        note = (
            f"{ref.environment} needs consensus: a proposal opens"
            if needs_votes(policy)
            else f"{ref.environment} needs no vote: this scales at once"
        )
        fields = [Field("replicas", "Replicas (0 or more):", str(row.target.desired))]
        self.push_screen(FormScreen(f"scale {ref} (now {row.target.desired})", fields, note), done)

    def action_describe(self) -> None:
        """`d` in Services: the selected target's pods and recent events (k9s describe).
        It only reads, so it stays under --readonly; a backend without details says so."""
        if self.selected is None:
            self.say("select a target in services first")
            return
        ref = self.selected.target.ref
        provider = self._provider_of(ref)
        what = f"describe {ref.service}@{ref.environment}"
        if provider is None:
            self.say(f"cannot {what}: provider {ref.provider} is not loaded", error=True)
            return

        async def load() -> None:
            try:
                async with asyncio.timeout(self.hub.timeout):  # not wait_for: see Hub.poll
                    details = await provider.details(ref)
            except TimeoutError:
                self.say(f"cannot {what}: {ref.provider} timed out", error=True)
                return
            except ProviderError as exc:
                self.say(f"cannot {what}: {exc}", error=True)
                return
            from widgets.details import DetailsScreen  # not needed for the first paint

            # One describe screen, installed so closing it keeps it: see DetailsScreen.
            if not self.is_screen_installed("describe"):
                self.install_screen(DetailsScreen(details, self.now()), "describe")
            screen = self.get_screen("describe")
            assert isinstance(screen, DetailsScreen)
            screen.show(details, self.now())
            if self.screen is not screen:
                self.push_screen(screen)

        self.run_worker(load(), group="describe", exclusive=True, exit_on_error=False)

    def action_rollback(self) -> None:
        """ctrl+l: roll the selected target back (no vote; production asks for its name)."""
        from console.domain.consensus import Kind

        self._offer(Kind.ROLLBACK, self._rollback_to)

    def _rollback_to(self, row: TargetRow) -> None:
        from widgets.modals import ConfirmScreen

        ref = row.target.ref
        current = row.target.revision

        def chosen(ref: TargetRef, revision: str) -> None:
            def confirmed(ok: bool | None) -> None:
                if ok:
                    self._run_change(
                        lambda: self.actions.rollback(ref, to=revision),
                        f"rolled back {ref.service}@{ref.environment} to {revision}",
                    )

            question = (
                f"Roll back {ref.service}@{ref.environment} from {current} to {revision}? "
                "No vote is needed; the team is notified."
            )
            expect = ref.service if ref.environment == "production" else None
            self.push_screen(ConfirmScreen(question, expect=expect), confirmed)

        self._pick_revision(ref, f"roll back {ref.service}@{ref.environment} to", chosen)

    def show_incomplete(self) -> None:
        """At start: actions a crash left between started and finished, to resolve by hand."""
        from widgets.modals import PickScreen

        try:
            records = self.actions.incomplete()
        except QuorumError as exc:
            self.say(f"cannot read incomplete actions: {exc}", error=True)
            return
        if not records:
            return
        options = [
            (
                r.key,
                f"{r.action} {r.ref.service}@{r.ref.environment} {r.revision} by {r.who}, "
                f"started {r.started_at:%Y-%m-%d %H:%M:%S}Z",
            )
            for r in records
        ]
        note = (
            "These actions started and never finished (a console or command died during the "
            "call). Check the target, then pick one to record what really happened; Esc leaves "
            "them for later (:incomplete)."
        )
        self.push_screen(
            PickScreen("incomplete actions", options, note=note), self._resolve_incomplete
        )

    def _resolve_incomplete(self, key: str | None) -> None:
        from widgets.modals import PickScreen

        if not key or self.readonly:
            if key:
                self.say("read-only console: resolving an action is disabled", error=True)
            return

        def outcome(chosen: str | None) -> None:
            if chosen:
                self._run_change(
                    lambda: self.actions.resolve(key, chosen, "recorded from the console"),
                    f"recorded {key} as {chosen}",
                )

        options = [
            ("finished", "it finished: the target runs the new revision"),
            ("failed", "it failed: the target did not change"),
        ]
        self.push_screen(PickScreen(f"what happened to {key}?", options), outcome)

    # ---- keys -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "prompt" and (
            not isinstance(self.screen, MainScreen) or isinstance(self.focused, Input)
        ):
            return False  # a `:` or `/` typed into a field is text
        return not (self.readonly and action in self.MUTATING)

    def on_key(self, event: events.Key) -> None:
        """A mutating key in read-only mode reached nobody: say why instead of nothing."""
        if not self.readonly:
            return
        node = self.focused
        while node is not None:
            owner = node if isinstance(node, (Pane, App)) else None
            if owner is not None:
                for binding in getattr(type(owner), "BINDINGS", []):
                    if not isinstance(binding, Binding):
                        continue
                    keys = binding.key.split(",")
                    if event.key in keys and self._is_mutating(owner, binding.action):
                        self.say(
                            f"read-only console: {binding.description.lower()} is disabled"
                            " (started with --readonly or the provider is read-only)",
                            error=True,
                        )
                        event.stop()
                        return
            node = node.parent
        for binding in self.BINDINGS:
            if (
                isinstance(binding, Binding)
                and event.key in binding.key.split(",")
                and binding.action in self.MUTATING
            ):
                self.say(f"read-only console: {binding.description.lower()} is disabled")
                event.stop()
                return

    @staticmethod
    def _is_mutating(owner: object, action: str) -> bool:
        if action.startswith("app."):  # a pane's key for an app action (Services' r and s)
            return action.removeprefix("app.") in QuorumApp.MUTATING
        if isinstance(owner, Pane):
            name, _, rest = action.partition("(")
            params = tuple(p.strip("'\" )") for p in rest.split(",")) if rest else ()
            return owner.is_mutating(name, params)
        return action in QuorumApp.MUTATING

    def focused_pane(self) -> Pane | None:
        node = self.focused
        while node is not None:
            if isinstance(node, Pane):
                return node
            node = node.parent
        return None

    def action_prompt(self, mode: str) -> None:
        if mode == "/":
            pane = self.focused_pane()
            if pane is None or not hasattr(pane, "set_filter"):
                self.say("nothing to filter here: / works in services, logs and audit")
                return
            self._filter_target = pane
            current = getattr(pane, "filter_text", "")
        else:
            current = ""
        self.main.query_one(CommandBar).open(mode, current)

    def command_done(self, mode: str, value: str | None) -> None:
        """The prompt closed: apply the filter or run the command (None when cancelled)."""
        if mode == "/":
            target = self._filter_target
            if value is not None and target is not None:
                target.set_filter(value.strip())
            if target is not None:
                target.focus_body()
            return
        if value is None:
            self.services.focus_body()
        else:
            self.run_command(value)
            # A command that moves no focus (`:env`, `:ctx`, a typo) must not leave the
            # keys with the closed prompt: they go back to Services, as after Esc.
            self.call_later(self._refocus)

    def _refocus(self) -> None:
        if isinstance(self.screen, MainScreen) and self.focused_pane() is None:
            self.services.focus_body()

    def run_command(self, text: str) -> bool:
        """Run a `:` command; False (with a one-line notice) when it is not understood."""
        words = text.strip().lstrip(":").split()
        if not words:
            self.focus_pane(self.main.lower if not self.main.wide else "services")
            return True
        name, args = words[0].lower(), words[1:]
        if name in ("q", "q!", "quit", "exit"):
            self.exit(0)
        elif name in ("help", "h"):
            self.action_help()
        elif name in ("env", "ns", "environment"):
            return self.set_environment(args[0] if args else None)
        elif name in ("provider", "ctx", "context"):
            return self.set_provider(args[0] if args else None)
        elif name in ("calendar", "cal"):
            self.request_calendar()
        elif name in ("incomplete", "crash"):
            self.show_incomplete()
        elif name in ("messages", "msg", "notices"):
            self.show_messages()
        elif name in ("refresh", "r"):
            self.action_refresh()
        elif name in PANE_COMMANDS:
            self.focus_pane(PANE_COMMANDS[name])
        else:
            hint = "try :svc, :logs, :metrics, :approvals, :rotation, :audit, :env NAME, :ctx NAME"
            self.say(f"unknown command :{name} ({hint})", error=True)
            return False
        return True

    def _known(self, attribute: str) -> list[str]:
        rows = getattr(self, "_rows", {}).values()
        found = {getattr(row.target.ref, attribute) for row in rows}
        if attribute == "provider":
            found |= set(self.hub.states)
        return sorted(found)

    def set_environment(self, name: str | None) -> bool:
        if name in (None, "all", "*"):
            self.environment = None
        else:
            known = self._known("environment")
            if name not in known:
                names = ", ".join(known) or "none yet"
                self.say(f"no environment {name!r} (known: {names})", error=True)
                return False
            self.environment = name
        self.services.set_scope(self.environment, self.provider_scope)
        self._paint_chrome()
        return True

    def set_provider(self, name: str | None) -> bool:
        if name in (None, "all", "*"):
            self.provider_scope = None
        else:
            known = self._known("provider")
            if name not in known:
                self.say(f"no provider {name!r} (known: {', '.join(known)})", error=True)
                return False
            self.provider_scope = name
        self.services.set_scope(self.environment, self.provider_scope)
        self._paint_chrome()
        return True

    def focus_pane(self, name: str) -> None:
        if name in LOWER:
            self.main.show_lower(name)
        self._paint_chrome()
        self.pane(name).focus_body()

    def action_show_pane(self, name: str) -> None:
        self.focus_pane(name)

    def action_show_logs(self) -> None:
        self.focus_pane("logs")

    def action_back(self) -> None:
        """Esc: clear the focused pane's filter, else go back to Services."""
        pane = self.focused_pane()
        if pane is not None and getattr(pane, "filter_text", ""):
            pane.set_filter("")
            return
        if pane is not self.services:
            self.focus_pane("services")

    def action_refresh(self) -> None:
        self.hub.refresh_now()
        self._followed = None
        if self.selected is not None:
            self._select(self.selected.key)
        self._refresh_side(force=True)
        self.say("refreshing every provider")

    def action_help(self) -> None:
        from widgets.help import HelpScreen

        entries = self.help_entries()
        notes = []
        if self.readonly:
            notes.append("Read-only: every mutating key is removed from this view.")
        notes.append("Esc closes a dialog, restores a zoomed pane, or clears a filter.")
        pane = self.focused_pane()
        title = pane.TITLE if pane is not None else "console"
        # One help screen, installed so closing it keeps it: see HelpScreen.
        if not self.is_screen_installed("help"):
            self.install_screen(HelpScreen(title, entries, notes), "help")
        help_screen = self.get_screen("help")
        assert isinstance(help_screen, HelpScreen)
        help_screen.show(title, entries, notes)
        self.push_screen(help_screen)

    def help_entries(self) -> list[HelpEntry]:
        """Every binding active in the focused view, grouped by where it acts."""
        from widgets.help import HelpEntry

        entries: list[HelpEntry] = []
        seen: set[tuple[str, str]] = set()
        for key, active in self.screen.active_bindings.items():
            node = active.node
            if isinstance(node, Pane):
                group = node.TITLE
            elif isinstance(node, App):
                group = "global"
            elif isinstance(node, Screen):
                group = "screen"
            else:
                group = getattr(node, "HELP_GROUP", type(node).__name__.lower())
            binding = active.binding
            description = binding.description or binding.action
            if (group, key) in seen:
                continue
            seen.add((group, key))
            entries.append(HelpEntry(group, self.get_key_display(binding), description))
        order = {"global": 0, "screen": 1}
        entries.sort(key=lambda e: (order.get(e.group, 2 if e.group.islower() else 3), e.group))
        return entries

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The `:` commands, also in the command palette (ctrl+p)."""
        yield from super().get_system_commands(screen)
        for name in ("services", "logs", "metrics", "approvals", "rotation", "audit"):
            yield SystemCommand(f"Go to {name}", f":{name}", lambda n=name: self.focus_pane(n))
        for env in self._known("environment"):
            yield SystemCommand(
                f"Environment: {env}", f":env {env}", lambda e=env: self.set_environment(e)
            )
        yield SystemCommand("Environment: all", ":env all", lambda: self.set_environment(None))
        for name in self._known("provider"):
            yield SystemCommand(
                f"Provider (context): {name}",
                f":provider {name} / :ctx {name}",
                lambda n=name: self.set_provider(n),
            )
        yield SystemCommand("Provider: all", ":provider all", lambda: self.set_provider(None))
        yield SystemCommand("Rotation calendar", ":calendar", self.request_calendar)
        yield SystemCommand("Refresh", "poll every provider now (ctrl+r)", self.action_refresh)


def _span(change: object) -> str:
    """An override or swap in one line for the team's notice."""
    who = getattr(change, "who", None) or getattr(change, "taken_by", None)
    who = who or getattr(change, "requested_by", "")
    when = f"{change.starts_at:%Y-%m-%d %H:%M} to {change.ends_at:%Y-%m-%d %H:%M} UTC"
    reason = getattr(change, "reason", "")
    return f"{who} {when}" + (f": {reason}" if reason else "")


def approval_view(view: ProposalView) -> ApprovalView:
    """A proposal as the Approvals pane shows it: votes, what it needs, overrides."""
    from widgets.approvals import ApprovalView, VoteView

    p = view.proposal
    counted = set(view.tally.approvals) | set(view.tally.rejections)
    notes = []
    if p.reason:
        notes.append(f"reason: {p.reason}")
    if p.overridden:
        review = (
            "awaiting review (R)"
            if p.awaiting_review
            else f"reviewed by {p.reviewed_by}"
            + (f": {p.review_comment}" if p.review_comment else "")
        )
        notes.append(f"⚑ override by {p.override_by}: {p.override_reason}; {review}")
    if p.detail:
        notes.append(p.detail)
    return ApprovalView(
        key=f"proposal-{p.id}",
        what=p.describe(),
        proposer=p.proposer,
        state=p.state.value,
        summary=view.summary,
        created_at=p.created_at,
        votes=tuple(
            VoteView(v.voter, v.approve, v.at, v.comment, v.voter in counted) for v in p.votes
        ),
        notes=tuple(notes),
        proposal_id=p.id,
        awaiting_review=p.awaiting_review,
    )


def _describe_result(done: str, result: object) -> str:
    from console.engine.actions import Outcome, Result

    if isinstance(result, Result):
        if result.outcome is not None:
            ran = _describe_outcome(result.outcome)
            return f"{done} (proposal {result.proposal.id}), ran: {ran}"
        return f"{done} (proposal {result.proposal.id}): {result.proposal.summary}"
    if isinstance(result, Outcome):
        return f"{done}: {_describe_outcome(result)}"
    return done


def _describe_outcome(outcome: Outcome) -> str:
    state = "finished" if outcome.ok else "failed"
    return f"{state} ({outcome.detail})" if outcome.detail else state


async def _stream(
    provider: Provider,
    ref: TargetRef,
    since: timedelta | None,
    tail: int | None,
    container: str | None,
    previous: bool,
) -> AsyncIterator[LogLine]:
    """The provider's log stream; errors (even synchronous ones) surface to the consumer.

    A previous instance has ended, so its log is read, not followed."""
    stream = provider.logs(
        ref, follow=not previous, since=since, tail=tail, container=container, previous=previous
    )
    try:
        async for line in stream:
            yield line
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()


def run_tui(args: argparse.Namespace) -> int:
    """`quorum` with no command: open the session and run the console until quit."""
    session = open_session(args)
    app = QuorumApp(session)
    result = app.run()
    return int(result or 0)
