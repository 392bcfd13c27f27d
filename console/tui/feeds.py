"""What keeps the panes fed: hub → Services, the selected target's logs and metrics,
and the side panes (Approvals, Rotation, Audit) from the ledger and the providers.

The app calls in when something happened (the hub polled, the cursor moved, a
timer fired); this module decides what to read and which pane shows it. It never
builds a widget: it hands view objects (console.tui.views) to the panes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from textual.css.query import NoMatches

from console.domain.errors import QuorumError
from console.domain.inert import neutralise
from console.domain.model import LogLine, ProviderApproval, Series, TargetRef, utcnow
from console.engine import collector, reads
from console.engine.hub import ProviderState
from console.engine.signing_state import signing_badge
from console.tui import views
from providers.base import Capability, Provider
from widgets.base.alerts import AlertsStrip
from widgets.base.chrome import ActionProgress, ProviderStatus
from widgets.base.pane import Pane
from widgets.panes.services import ServiceView

if TYPE_CHECKING:
    from console.engine.actions import ProposalView
    from console.tui.host import Console
    from widgets.panes.approvals import ApprovalView

METRICS_WINDOW = timedelta(minutes=15)
RECENT = timedelta(minutes=30)  # settled proposals stay in Approvals this long
SLOW_EVERY = 30.0  # seconds between reads of the schedule and the providers' approvals
# The most open proposals the Approvals pane lists (the newest): a table of ten thousand
# rows takes seconds to build on the event loop and nobody reads it; 200 rows take some
# 60 ms, paid again when the pane redraws its ages.
OPEN_SHOWN = 200
# The longest an unchanged Approvals pane waits to redraw its age column (minutes, hours).
AGES_EVERY = timedelta(seconds=15)
START_WAIT = 0.5  # seconds the rest of the start waits for a first target to paint
MAX_TOASTS_AT_ONCE = 2  # more notices at once (a catch-up, providers' notes) make one toast


@dataclass(frozen=True)
class ShownApprovals:
    """What the Approvals pane shows (`shown`) was read from the ledger at `version`,
    with the providers' approvals `provider_items`, and holds until `until`: the first
    instant a proposal expires, a vote stops counting or a settled one leaves the
    window. Its rows' age labels are due to move at `redraw_at`, which redraws the same
    rows (`rows`, the pane's views of them, in order) without reading or building them
    again."""

    version: tuple[int, int]
    provider_items: list[ProviderApproval]
    until: datetime
    redraw_at: datetime
    shown: tuple[ProposalView, ...] = ()
    rows: tuple[ApprovalView, ...] = ()

    @classmethod
    def of(
        cls,
        version: tuple[int, int],
        provider_items: list[ProviderApproval],
        now: datetime,
        until: datetime,
        shown: list[ProposalView],
        rows: tuple[ApprovalView, ...],
    ) -> ShownApprovals:
        redraw_at = cls.next_redraw(now, shown)
        return cls(version, provider_items, until, redraw_at, tuple(shown), rows)

    @staticmethod
    def next_redraw(now: datetime, shown: Iterable[ProposalView]) -> datetime:
        # Ages under a minute count seconds: such a row is redrawn on every refresh.
        young = any(now - v.proposal.created_at < timedelta(minutes=1) for v in shown)
        return now if young else now + AGES_EVERY

    def holds(
        self, version: tuple[int, int], provider_items: list[ProviderApproval], now: datetime
    ) -> bool:
        """Whether the pane still shows this. The providers' approvals are compared by
        value: each 30 s read makes a new list, and redrawing the pane's 200 rows for an
        equal one was the console's periodic spike with a long history."""
        return (
            version == self.version and provider_items == self.provider_items and now < self.until
        )


class Feeds:
    """The console's data flow into its panes, from the first frame to the quit."""

    def __init__(self, app: Console, *, metrics_interval: float, side_interval: float) -> None:
        self.app = app
        self.metrics_interval = metrics_interval
        self.side_interval = side_interval
        self.views: dict[str, ServiceView] = {}
        self.selected: ServiceView | None = None
        self.provider_approvals: list[ProviderApproval] = []
        self.provider_errors: list[str] = []
        self.started = False
        self._followed: str | None = None
        self._panes_ready = False
        self._others_ready = False
        self._reading_approvals = False
        self._reading_side = False
        self._catching_up = False
        self._approvals_shown: ShownApprovals | None = None
        self._open_hidden = 0  # the older open proposals the pane leaves out
        self._last_slow: float | None = None  # time.monotonic() of the last slow read
        self._notes_said: set[str] = set()
        self._waiting_said = False  # the start's "proposals wait for your vote" toast
        # On a PostgreSQL ledger: the watch's generation each read last saw, and why the
        # ledger is out of reach (shown on the status line; reads wait until it is back).
        self._audit_generation: int | None = None
        self._rotation_generation: int | None = None
        self._rotation_due: datetime | None = None  # the next handoff the pane shows
        self._caught_up_generation: int | None = None
        self._side_again = False  # a change was heard while the side panes were read
        # Started out of reach: stale from the first frame, and nothing read from the
        # ledger yet (its panes say so) until the watch first reaches it.
        self.ledger_error: str | None = app.ledger_unreachable
        self._never_reached = app.ledger_unreachable is not None
        self.ledger_badge = signing_badge(app.session.config)
        self._loop_thread = threading.get_ident()  # the console is built on its loop's thread

    # ---- the start: Services first, the rest after the first frame --------------

    def panes_mounted(self) -> None:
        """Services and the chrome are mounted: show what the first polls brought."""
        self._panes_ready = True
        self.app.paint_chrome()
        self.show_states(self.app.hub.states)
        if self.ledger_error is not None:
            self._say_stale(self.ledger_error)

    def others_mounted(self) -> None:
        """The panes mounted after the first frame are there: what they show can start.

        What the first paint does not need (the selected target's log and metrics, the
        side panes, which read SQLite files) starts once the first targets are on screen,
        or after a short wait when no provider has answered yet; never before the panes
        it feeds are mounted and laid out.
        """
        self._others_ready = True
        if self._never_reached:
            self._say_unread()
        if not gc.isenabled():  # paused by `quorum` for the start: see console.cli.main
            gc.enable()
        if self.views:
            self.app.call_after_refresh(self.start)
        self.app.set_timer(START_WAIT, self.start)

    def start(self) -> None:
        if self.started or not self._others_ready or not self.app.is_running:
            return  # a start step scheduled before the quit runs after it: nothing to do
        self.started = True
        with contextlib.suppress(NoMatches):  # the console closed while this was queued
            if self.selected is not None:
                self.follow_logs()
                self.watch_metrics()
            self.refresh_side(force=True)
        app = self.app
        self._listen()
        app.set_interval(1.0, self.tick)
        app.set_interval(self.side_interval, self.refresh_side)
        app.set_interval(self.side_interval, self.catch_up)
        if not self._never_reached:  # else once the watch first reaches the ledger
            self._first_reads()

    def _first_reads(self) -> None:
        """What a start reads once from the ledger: a remembered head gone, actions a
        crash left incomplete."""
        app = self.app
        app.run_worker(self._check_audit_head, thread=True, group="head", exit_on_error=False)
        app.call_after_refresh(app.flows.show_incomplete, at_start=True)

    def _listen(self) -> None:
        """On a PostgreSQL ledger, its changes arrive through LISTEN (the engine's watch,
        in a thread of its own) and are handed to the loop without waiting on it: a
        console closing must not hold the watch's thread."""
        loop = asyncio.get_running_loop()

        def heard() -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the console is gone
                loop.call_soon_threadsafe(self.ledger_changed)

        self.app.actions.watch_ledger(heard)

    def ledger_changed(self) -> None:
        """The watch heard a change, or the ledger went out of reach or came back."""
        if not self.app.is_running:
            return
        app = self.app
        error = app.actions.ledger_error
        if error is None and not app.identity.known:
            app.identity = app.actions.identity  # the role the server just authenticated
        if error != self.ledger_error:  # the status line shows the latest reason
            was, self.ledger_error = self.ledger_error, error
            with contextlib.suppress(NoMatches):
                self._paint_status(app.hub.states)
                app.paint_chrome()
            if (error is None) != (was is None):
                app.refresh_bindings()  # the changes' keys are shown disabled while stale
            if error is not None and was is None:  # one toast when it goes, one when back
                self._say_stale(error)
            elif error is not None:  # a new reason: the status line has it in brief
                app.record(neutralise(self._ledger_line(error)), title="ledger stale")
            elif self._never_reached:
                app.say(
                    f"the ledger is reachable again; you are {app.identity.name}"
                    " (the role its server authenticated)",
                    title="ledger",
                )
            else:
                app.say("the ledger is reachable again", title="ledger")
            if error is None:  # what failed while it was away may be said again
                app.failures_over()
        if error is None and self._never_reached:
            self._never_reached = False
            self._say_unread()
            self._first_reads()
        if error is None:
            if self._reading_side:
                self._side_again = True
            self.refresh_side()
            self.catch_up()

    def _ledger_line(self, error: str) -> str:
        where = self.app.session.config.ledger
        return f"ledger {where.where if where else ''}: {error}"

    def _say_stale(self, error: str) -> None:
        self.app.say(
            f"{self._ledger_line(error)}; changes are refused until it is back",
            error=True,
            title="ledger stale",
        )

    def _say_unread(self) -> None:
        """The ledger's panes, before anything was read from it, say it is out of
        reach: an empty table there would look like a team with nothing waiting."""
        unread = "ledger out of reach: not read yet"  # fits a side pane at 120 columns
        with contextlib.suppress(NoMatches):
            for pane in (self.app.approvals_pane, self.app.audit_pane, self.app.rotation_pane):
                pane.table.set_empty_text(unread if self._never_reached else None)

    def tick(self) -> None:
        with contextlib.suppress(NoMatches):  # the panes are gone while shutting down
            self.app.paint_chrome()
            self.app.rotation_pane.tick()

    # ---- hub → Services ----------------------------------------------------------

    def show_states(self, states: Mapping[str, ProviderState]) -> None:
        """Every provider's latest state → the Services rows and the status line."""
        if not self._panes_ready:
            return  # the panes are still mounting; panes_mounted shows what arrived
        app = self.app
        alerts = views.firing_alerts(states.values())
        shown = views.service_views(states.values(), app.session.config, alerts)
        app.main.query_one(AlertsStrip).show(alerts)
        self.views = {view.key: view for view in shown}
        app.services.update_views(shown)
        self._paint_status(states)
        self._say_notes(states.values())
        if shown and not self.started:
            app.call_after_refresh(self.start)
        cursor = app.services.table.cursor_key
        if cursor is not None and (self.selected is None or self.selected.key == cursor):
            self.select(cursor)  # the selected row's data changed, or the first row came

    def _paint_status(self, states: Mapping[str, ProviderState]) -> None:
        stale = ""
        if self.ledger_error is not None:  # short: the toast and :messages keep it whole
            from console.store.postgres.reasons import brief

            stale = brief(self.ledger_error)
        self.app.main.query_one(ProviderStatus).show(
            views.provider_lines(states.values()),
            utcnow(),
            ledger=self.ledger_badge,
            ledger_stale=stale,
        )

    def _say_notes(self, states: Iterable[ProviderState]) -> None:
        """What a provider leaves out and why (kinds its credentials may not list), said
        once per console: it is a standing fact, not news at every refresh. Several at
        once make one toast; each line stays in :messages."""
        lines = (
            f"{state.name}: {note}"
            for state in states
            for note in (state.snapshot.notes if state.snapshot else ())
        )
        new = [line for line in dict.fromkeys(lines) if line not in self._notes_said]
        self._notes_said.update(new)
        if len(new) > MAX_TOASTS_AT_ONCE:
            for line in new:
                self.app.record(line, title="hidden from view")
            self.app.say(
                f"{len(new)} notes on what providers leave out — :messages lists them",
                title="hidden from view",
            )
            return
        for line in new:
            self.app.say(line, title="hidden from view")

    def known(self, attribute: str) -> list[str]:
        """The environments or providers seen so far (for `:env`, `:ctx` and ctrl+p)."""
        found = {getattr(view.target.ref, attribute) for view in self.views.values()}
        if attribute == "provider":
            found |= set(self.app.hub.states)
        return sorted(found)

    # ---- selection: logs and metrics follow the cursor ---------------------------

    def select(self, key: str) -> None:
        view = self.views.get(key)
        if view is None:
            return
        self.selected = view
        if key == self._followed:
            return
        self._followed = key
        if self.started:  # else the first paint comes first; then start() follows it
            with contextlib.suppress(NoMatches):  # the panes are gone while shutting down
                self.follow_logs()
                self.watch_metrics()

    def refollow(self) -> None:
        """ctrl+r: restart the selected target's log and metrics."""
        self._followed = None
        if self.selected is not None:
            self.select(self.selected.key)

    def provider_of(self, ref: TargetRef) -> Provider | None:
        return self.app.session.providers.get(ref.provider)

    def follow_logs(self) -> None:
        if self.selected is None:
            return
        session, ref = self.app.session, self.selected.target.ref
        provider = self.provider_of(ref)
        factory = None
        if provider is not None and provider.can(Capability.LOGS):
            timeout = self.app.hub.timeout

            def factory(
                since: timedelta | None, tail: int | None, container: str | None, previous: bool
            ) -> AsyncIterator[LogLine]:
                # A previous instance has ended, so its log is read, not followed.
                return reads.open_logs(
                    session,
                    ref,
                    follow=not previous,
                    since=since,
                    tail=tail,
                    container=container,
                    previous=previous,
                    timeout=timeout,
                )

        self.app.logs.follow(f"{ref.service}@{ref.environment}", factory)

    def watch_metrics(self) -> None:
        if self.selected is None:
            return
        ref = self.selected.target.ref
        provider = self.provider_of(ref)
        fetch = None
        if provider is not None and provider.can(Capability.METRICS):
            session, timeout = self.app.session, self.app.hub.timeout

            async def fetch() -> list[Series]:
                return await reads.metrics(session, ref, METRICS_WINDOW, timeout=timeout)

        thresholds = self.app.session.config.thresholds_for(ref.service)
        self.app.metrics.watch(
            f"{ref.service}@{ref.environment} · last 15m", fetch, thresholds, self.metrics_interval
        )

    async def next_container(self) -> None:
        """`c` in Logs: the next container of the target's pods (or tasks)."""
        if self.selected is None:
            return
        ref = self.selected.target.ref
        try:
            details = await reads.details(self.app.session, ref, timeout=self.app.hub.timeout)
        except QuorumError as exc:  # a provider's failure is a notice
            self.app.say(f"no container list for {ref.service}@{ref.environment}: {exc}")
            return
        if self.selected is None or self.selected.target.ref != ref:
            return  # the cursor moved on while the provider answered
        names = sorted({name for pod in details.pods for name in pod.containers})
        self.app.logs.next_container(names)

    def deploy_output(self, text: str) -> None:
        """A team deploy command's output, shown in the log view as it runs."""
        with contextlib.suppress(NoMatches):
            self.app.logs.view.push([LogLine(ts=self.app.now(), text=text, source="deploy")])

    # ---- side panes: approvals, rotation, audit ----------------------------------

    def refresh_side(self, force: bool = False) -> None:
        """Approvals and Audit from the ledger; every 30 s (and on ctrl+r) also the
        schedule and what the providers hold for approval. The ledger is read in worker
        threads (console.engine.actions.fetch_*): a write lock held by another process
        delays the side panes, never the keys. A read still running is not doubled."""
        clock = time.monotonic()
        slow = force or self._last_slow is None or clock - self._last_slow >= SLOW_EVERY
        if slow:
            self._last_slow = clock
            self.read_provider_approvals()
        if not self._reading_side:
            self._reading_side = True
            self.app.run_worker(self._read_side(slow, force), group="side", exit_on_error=False)

    async def _read_side(self, slow: bool, force: bool = False) -> None:
        try:
            # A stale PostgreSQL ledger is not read: the panes keep what they showed,
            # and the watch reads them again once it is back.
            if self.ledger_error is None:
                await self.refresh_audit()
                await self.refresh_approvals()
            if self._rotation_wanted(slow, force):
                await self.refresh_rotation()
        except NoMatches:
            return  # the panes are gone while shutting down
        finally:
            self._reading_side = False
        if self._side_again:  # a change heard during this read may have come after it
            self._side_again = False
            self.refresh_side()

    async def refresh_audit(self) -> None:
        """New records, if any. On a watched PostgreSQL ledger only once the watch has
        heard of a change since the last read: an idle console sends no query."""
        pane = self.app.audit_pane
        generation = self.app.actions.ledger_generation
        if generation is not None and generation == self._audit_generation and pane.records:
            return
        try:
            records = await self.app.actions.fetch_audit(pane.last_seq)
        except Exception as exc:  # an unreadable log is a status, not a crash
            pane.set_status(f"cannot read the audit log: {exc}")
            pane.table.set_empty_text(views.unread_because(exc))
            return
        pane.table.set_empty_text(None)
        self._audit_generation = generation
        if records or not pane.records:
            pane.add(records)

    def _rotation_wanted(self, slow: bool, force: bool) -> bool:
        """On the SQLite file, the schedule is read with the slow reads (every 30 s). On
        a watched PostgreSQL ledger, which keeps its overrides and swaps, only when asked
        (ctrl+r, a change made here), after a change was heard, or once a shown handoff
        is due: an idle console sends the server no query."""
        if self.ledger_error is not None:
            return False  # stale: the pane keeps what it showed
        generation = self.app.actions.ledger_generation
        if generation is None:
            return slow
        if force or generation != self._rotation_generation:
            return True
        return self._rotation_due is not None and self.app.now() >= self._rotation_due

    async def refresh_rotation(self) -> None:
        from console.engine import rotation_changes

        app = self.app
        pane = app.rotation_pane
        generation = app.actions.ledger_generation  # before the read: a later change reads again
        try:
            slots = await rotation_changes.fetch_holders(app.actions, app.now())
            swaps = await rotation_changes.fetch_open_swaps(app.actions)
        except Exception as exc:  # a schedule error is shown on the pane
            pane.set_status(f"schedule error: {exc}")
            if app.session.config.rotations:  # else "no rotation configured" stays true
                pane.table.set_empty_text(views.unread_because(exc))
            return
        pane.table.set_empty_text(None)
        self._rotation_generation = generation
        self._rotation_due = min((s.handoff_at for s in slots if s.handoff_at), default=None)
        pane.show(slots, len(swaps))

    async def refresh_approvals(self) -> None:
        """Open, awaiting-review and recently settled proposals, then what the providers
        hold themselves (asked on their own, slower cadence: see read_provider_approvals).

        Nothing is read or redrawn while the shared file is unchanged (SQLite's
        `data_version`), the providers' approvals are the ones shown, and no shown row
        has reached a time that changes it: a long history costs the keys nothing."""
        app = self.app
        pane = app.approvals_pane
        actions = app.actions
        now = app.now()
        try:
            version = await actions.fetch_ledger_version()
            before = self._approvals_shown
            if before is not None and before.holds(version, self.provider_approvals, now):
                if now >= before.redraw_at:  # the same rows, their ages moved on
                    self._show_approvals(list(before.shown), before.rows)
                    redraw_at = ShownApprovals.next_redraw(now, before.shown)
                    self._approvals_shown = replace(before, redraw_at=redraw_at)
                return
            opened, until = await actions.fetch_open_until()
            hidden = max(0, len(opened) - OPEN_SHOWN)  # oldest first: the newest are kept
            found = {v.id: v for v in opened[hidden:]}
            for view in await actions.fetch_awaiting_review():
                found.setdefault(view.id, view)
            # Recently settled ones stay a while, so a vote's outcome is seen where it was cast.
            for view in await actions.fetch_settled_since(now - RECENT):
                found.setdefault(view.id, view)
                until = min(until, view.proposal.updated_at + RECENT)
        except QuorumError as exc:
            pane.set_status(f"cannot read proposals: {exc}")
            pane.table.set_empty_text(views.unread_because(exc))
            self._approvals_shown = None
            return
        pane.table.set_empty_text(None)
        shown = list(found.values())
        # What was just read stays until the file changes; with the modules and widgets,
        # it is most of the heap, which full collections need not walk again.
        collector.keep_out_of_passes()
        self._open_hidden = hidden
        rows = self._show_approvals(shown)
        self._approvals_shown = ShownApprovals.of(
            version, self.provider_approvals, now, until, shown, rows
        )
        if not self._waiting_said:  # once, at start: what waits for this person
            self._waiting_said = True
            waiting = views.waiting_for(app.identity.name, shown)
            if waiting:
                app.say(waiting, title="waiting for you")

    def _show_approvals(
        self, proposals: list, rows: tuple[ApprovalView, ...] | None = None
    ) -> tuple[ApprovalView, ...]:
        """In the engine's order (console.engine.waiting.people_first); the pane only
        renders it. `rows` are these proposals' views as built for the last read: a
        redraw for the ages shows them again. Returns the views shown."""
        from console.engine.waiting import people_first

        pane = self.app.approvals_pane
        if rows is None:
            ordered = people_first([*proposals, *self.provider_approvals])
            rows = tuple(views.waiting_view(item) for item in ordered)
        pane.show(rows)
        notes = list(self.provider_errors)
        hidden = self._open_hidden
        if hidden:  # short: the side pane's bottom edge is some 30 columns
            notes.insert(0, f"+{hidden} older: quorum approvals")
        pane.set_status("; ".join(notes))
        return rows

    def reveal_proposal(self, pid: int) -> None:
        """Select proposal `pid` in Approvals (now, or once the next read shows it)."""
        with contextlib.suppress(NoMatches):
            self.app.approvals_pane.reveal(views.proposal_key(pid))

    def read_provider_approvals(self) -> None:
        """Ask every provider with approvals of its own (console.engine.reads, bounded by
        the hub's timeout); a slow provider delays only this read, never the panes."""
        if self._reading_approvals:
            return
        self._reading_approvals = True
        self.app.run_worker(self._read_approvals(), group="provider-approvals", exit_on_error=False)

    async def _read_approvals(self) -> None:
        try:
            asked = await reads.approvals(self.app.session, timeout=self.app.hub.timeout)
        finally:
            self._reading_approvals = False
        self.provider_approvals, self.provider_errors = asked.items, asked.errors
        if self.ledger_error is not None:
            return  # the ledger's proposals are read with them once it is back
        with contextlib.suppress(NoMatches):
            await self.refresh_approvals()

    def catch_up(self) -> None:
        """The engine session's catch-up: the sandbox's teammates vote and approved
        proposals a crash left unexecuted run, so a team that only uses the console
        catches up too (console.engine.catch_up)."""
        if self.app.readonly or self._catching_up:
            return
        # On a watched PostgreSQL ledger, only after a change was heard (or at start).
        generation = self.app.actions.ledger_generation
        if generation is not None:
            if generation == self._caught_up_generation or self.ledger_error is not None:
                return
            self._caught_up_generation = generation
        self._catching_up = True
        self.app.run_worker(self._catch_up(), group="catch-up", exit_on_error=False)

    async def _catch_up(self) -> None:
        from console.engine.catch_up import catch_up

        try:
            done = await catch_up(self.app.actions, self.app.now())
        finally:
            self._catching_up = False
        self.app.failures_over()
        said = views.caught_up_notices(done)
        if len(said) > MAX_TOASTS_AT_ONCE:  # a stack of toasts would cover the panes
            for title, line, _ in said:
                self.app.record(line, title=title)
            failed = any(error for _, _, error in said)
            self.app.say(views.caught_up_summary(done), title="catch-up", error=failed)
        else:
            for title, line, error in said:
                self.app.say(line, title=title, error=error)
        if done.votes or done.ran:
            self.refresh_side()

    def _check_audit_head(self) -> None:
        """Every start reports a log whose remembered head is gone (truncated or
        rewritten since this account last saw it), as every command does."""
        from console.engine.audit_watch import check_and_note

        session = self.app.session
        gone = check_and_note(session.audit_path, config=session.config)
        if gone is not None:
            self.app.call_from_thread(self.app.say, gone, error=True, title="audit")

    def progress(self, what: str, done: int, total: int) -> None:
        """A long change's progress (Actions' sink): providers may report it from a
        worker thread (boto3 calls run there), so it is handed to the loop's thread."""
        if threading.get_ident() == self._loop_thread:
            self._show_progress(what, done, total)
        else:
            self.app.call_from_thread(self._show_progress, what, done, total)

    def _show_progress(self, what: str, done: int, total: int) -> None:
        with contextlib.suppress(NoMatches):  # the console is closing
            self.app.main.query_one(ActionProgress).show(what, done, total)

    def verify_audit(self) -> None:
        """`v` in Audit: verify the chain in a thread, then say the verdict."""
        self.app.run_worker(
            self._verify, thread=True, group="audit-verify", exclusive=True, exit_on_error=False
        )

    def _verify(self) -> None:
        from console.store.backends import audit_log

        session = self.app.session
        try:
            log = audit_log(session.config, session.audit_path, None)
        except QuorumError as exc:  # the ledger's server out of reach
            self.app.call_from_thread(self._show_verdict, f"cannot verify: {exc}", False)
            return
        try:
            result = log.verify()
        finally:
            log.close()
        verdict = (
            f"chain intact: {result.checked} records verified"
            if result.ok
            else f"VERIFY FAILED: {result.reason}"
        )
        self.app.call_from_thread(self._show_verdict, verdict, result.ok)

    def _show_verdict(self, verdict: str, ok: bool) -> None:
        self.app.audit_pane.set_verdict(verdict)
        self.app.say(verdict, error=not ok, title="audit")


def guard_panes(app: Console) -> None:
    """Every mounted pane asks the read-only guard before an action."""
    for pane in app.main.query(Pane):
        pane.guard = app.guard.allows
