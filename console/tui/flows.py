"""The consensus dialogs: propose, vote, override, review, restart, scale, roll back,
describe, and resolving actions a crash left incomplete.

Each flow is one worker that reads top to bottom: check, ask (`push_screen_wait`),
act through the engine's actions, say what happened. Textual's `@work` only decorates
methods of DOM nodes, and these controllers hold no widget, so `flow` starts the same
kind of worker on the app for them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any

from textual.worker import Worker

from console.domain.bounds import MAX_REPLICAS, whole
from console.domain.errors import QuorumError
from console.domain.inert import echo
from console.domain.model import Revision, TargetRef
from console.domain.wording import count
from console.engine import reads
from console.tui import views
from providers.base import Capability, ProviderError

PROPOSED = "proposed"  # what `change` says of a proposal opened from the console
TYPED = "\0typed"  # the pick list's entry for a revision typed by hand, never a revision id

if TYPE_CHECKING:
    from console.domain.consensus import Kind
    from console.engine.actions import ProposalView
    from console.tui.host import Console
    from widgets.dialogs.modals import FormScreen
    from widgets.panes.services import ServiceView


def _replicas(text: str) -> str | None:
    """The scale form's check: said in the form, which keeps what was typed."""
    if not (text.isascii() and text.isdigit()) or whole(text, 0, MAX_REPLICAS) is None:
        shown = echo(text)
        return f"replicas must be a whole number from 0 to {MAX_REPLICAS}" + (
            f", not {shown}" if shown else ""
        )
    return None


def flow(
    group: str, *, exclusive: bool = False
) -> Callable[[Callable[..., Coroutine[Any, Any, None]]], Callable[..., Worker[None]]]:
    """Run the decorated coroutine method as a worker of the console (not fatal when
    it fails: `QuorumApp.on_worker_state_changed` says so in one line)."""

    def decorate(
        method: Callable[..., Coroutine[Any, Any, None]],
    ) -> Callable[..., Worker[None]]:
        @functools.wraps(method)
        def start(self: Any, *args: Any, **kwargs: Any) -> Worker[None]:
            return self.app.run_worker(
                functools.partial(method, self, *args, **kwargs),
                name=method.__name__,
                group=group,
                exclusive=exclusive,
                exit_on_error=False,
            )

        return start

    return decorate


class ConsensusFlows:
    """The dialogs of the Approvals and Services keys, and of `:incomplete`."""

    def __init__(self, app: Console) -> None:
        self.app = app
        self.changing = 0  # changes under way: a ledger wait meanwhile is theirs to report

    @contextlib.contextmanager
    def under_way(self) -> Iterator[None]:
        """Marks a change as under way, so a wait for the ledger's write lock is said
        (`QuorumApp._ledger_waiting`); the panes' background reads wait silently."""
        self.changing += 1
        try:
            yield
        finally:
            self.changing -= 1

    # ---- making the change -------------------------------------------------------

    async def change(self, act: Callable[[], Awaitable[object]], done: str, *, title: str) -> None:
        """Run one change through the engine's actions; its errors become one line. The
        notice is titled by what happened: `title` (vote, rollback...), or the change a
        step ran ("deploy finished")."""
        from console.engine.actions import ActionIncomplete, NeedsConsensus, Outcome, Result
        from console.engine.presentation import describe_result

        app = self.app
        try:
            with self.under_way():
                result = await act()
        except NeedsConsensus as exc:
            app.say(views.opened_line(exc.view), title="proposal opened")
            app.feeds.reveal_proposal(exc.view.id)
        except ActionIncomplete as exc:
            record = exc.record
            app.say(
                f"{record.action} {record.ref.service}@{record.ref.environment} started at "
                f"{record.started_at:%H:%M:%S}Z and never finished: check the target, then "
                "record what happened with :incomplete",
                error=True,
                title=f"{title} refused",
            )
        except (QuorumError, ProviderError) as exc:
            app.say(str(exc), error=True, title=f"{title} refused")
        else:
            # What ran, whether a vote set it off (Result) or it ran directly (Outcome):
            # a failure is titled and shown as one.
            ran = result.outcome if isinstance(result, Result) else None
            if isinstance(result, Outcome):
                ran = result
            said = describe_result(done, result)
            if ran is not None:
                title = f"{ran.action} {'finished' if ran.ok else 'failed'}"
            elif isinstance(result, Result) and done == PROPOSED:
                said = views.opened_line(result.proposal)
            app.say(said, title=title, error=ran is not None and not ran.ok)
            if isinstance(result, Result):  # the proposal acted on is the one shown
                app.feeds.reveal_proposal(result.proposal.id)
        app.feeds.refresh_side()
        app.hub.refresh_now()

    async def _to_change(self, doing: str, pid: int, *, title: str = "") -> ProposalView | None:
        """The proposal a dialog of a change to it starts from; None when the change is
        refused before it (read-only, the ledger out of reach), said in the change's
        words (`Actions.fetch_to_change`)."""
        try:
            return await self.app.actions.fetch_to_change(doing, pid)
        except QuorumError as exc:
            self.app.say(str(exc), error=True, title=f"{title or doing} refused")
            return None

    def _target(self) -> ServiceView | None:
        selected = self.app.feeds.selected
        if selected is None:
            self.app.say("select a target in services first")
        return selected

    async def _history(self, ref: TargetRef) -> list[Revision] | None:
        """The target's revisions, newest first; None (said in one line) when there are none
        to read."""
        app = self.app
        provider = app.feeds.provider_of(ref)
        if provider is None or not provider.can(Capability.REVISIONS):
            app.say(f"{ref.provider} keeps no revision history for {ref.service}")
            return None
        try:
            revisions = await reads.revisions(app.session, ref, timeout=app.hub.timeout)
        except QuorumError as exc:
            app.say(str(exc), error=True)
            return None
        if not revisions:
            app.say(f"{ref} has no revision history")
            return None
        return revisions

    async def _pick_earlier(self, ref: TargetRef, current: str, title: str) -> str | None:
        """A revision to roll back to: the running one is never offered (going "back" to
        it changes nothing and records a failed action), and the one before it is the
        default. With no other revision, one line and no dialog."""
        from widgets.dialogs.modals import PickScreen

        revisions = await self._history(ref)
        if revisions is None:
            return None
        earlier = [r for r in revisions if not r.current and r.id != current]
        if not earlier:
            self.app.say(f"{ref.service}@{ref.environment} has no revision before {current}")
            return None
        return await self.app.push_screen_wait(PickScreen(title, views.revision_options(earlier)))

    async def _allowed(self, ref: TargetRef, kind: Kind) -> bool:
        """Whether the provider can make the change and its access review allows it;
        says why not in one line. A dialog the credentials could never carry out is
        not worth filling in."""
        app = self.app
        what = f"{kind.value} {ref.service}@{ref.environment}"
        try:
            reason = await app.actions.denied(ref, kind)  # bounded like every provider read
        except (QuorumError, ProviderError) as exc:
            app.say(f"cannot {what}: {exc}", error=True)
            return False
        if reason:
            app.say(f"cannot {what}: {ref.provider} denies it: {reason}", error=True)
            return False
        return True

    # ---- Approvals ---------------------------------------------------------------

    @flow("propose")
    async def propose(self) -> None:
        """`n`: propose a deploy of the selected target, to a revision from its history or
        one typed in (a new build), which the provider checks before the form closes."""
        from console.domain.consensus import Kind
        from widgets.dialogs.modals import Field, FormScreen, PickScreen

        app = self.app
        if app.feeds.selected is None:
            app.say("select a target in services first, then press n here")
            return
        try:  # read-only, a ledger out of reach: said before any form is filled in
            app.actions.guard("propose a change")
        except QuorumError as exc:
            app.say(str(exc), error=True, title="proposal refused")
            return
        ref = app.feeds.selected.target.ref
        where = f"{ref.service}@{ref.environment}"
        provider = app.feeds.provider_of(ref)
        history: list[Revision] = []
        if provider is not None and provider.can(Capability.REVISIONS):
            history = await self._history(ref) or []
        options = [*views.revision_options(history), (TYPED, "another revision: type it…")]
        picked = await app.push_screen_wait(PickScreen(f"deploy {where} to", options))
        if not picked:
            return
        policy = app.session.config.policy(ref.environment)
        note = (
            f"{ref.environment} needs {count(policy.min_approvals, 'approval')}"
            if policy.min_approvals
            else f"{ref.environment} needs no vote: this deploys at once"
        )
        fields = [Field("reason", "Reason:", required=False)]
        title = f"deploy {ref} to {picked}"
        validate = None
        if picked == TYPED:
            fields.insert(0, Field("revision", "Revision (tag or build):"))
            title = f"deploy {ref} to"

            async def validate(values: dict[str, str]) -> str | None:
                return await app.actions.revision_problem(ref, values["revision"])

        values = await app.push_screen_wait(FormScreen(title, fields, note, validate))
        if values is not None:
            revision = values.get("revision", picked)
            await self.change(
                lambda: app.actions.propose(
                    Kind.DEPLOY, ref, revision=revision, reason=values["reason"]
                ),
                PROPOSED,
                title="proposal",
            )

    @flow("vote")
    async def vote(self, pid: int, approve: bool, version: int | None = None) -> None:
        """`a` approves with an optional comment; `x` asks why. Either is signed over
        `version`, the proposal as the pane showed it, so an amendment made meanwhile
        refuses the vote. An approval that completes the quorum runs the change, so the
        dialog says so, and for production asks for the service's name; only then is
        it cast as confirmed, and the engine refuses an unconfirmed one that another
        vote made the completing one after the form closed. One the rules refuse (a
        self-approval) is refused at once, with no dialog."""
        from console.domain.errors import PolicyRefused
        from widgets.dialogs.modals import Field, FormScreen

        app = self.app
        verb = "approved" if approve else "rejected"

        def cast(comment: str, confirmed_run: bool = False) -> Awaitable[None]:
            return self.change(
                lambda: app.actions.vote(
                    pid, approve, comment, seen_version=version, confirmed_run=confirmed_run
                ),
                f"{verb} proposal {pid}",
                title="vote",
            )

        view = await self._to_change("vote", pid)
        if view is None:
            return
        p = view.proposal
        if version is not None and version != p.version:
            await cast("")  # amended since the pane showed it: the engine refuses and says so
            return
        if not approve:
            fields = [Field("comment", "Why (comment):")]
            values = await app.push_screen_wait(FormScreen(f"reject: {p.describe()}", fields))
            if values is not None:
                await cast(values["comment"])
            return
        try:
            completes = app.actions.approval_completes(view)
        except PolicyRefused:
            await cast("")  # the engine refuses it, records the refusal and says why
            return
        values = await app.push_screen_wait(self._approval_form(view, completes))
        if values is not None:
            # The form said it runs now (and in production had the name typed) only
            # where it completes: that is the confirmation the engine asks for.
            await cast(values["comment"], confirmed_run=completes)

    def _approval_form(self, view: ProposalView, completes: bool) -> FormScreen:
        """`a`'s form: an optional comment; where the approval completes the quorum, that
        the change runs now, and in production the service's name to type. A vote that
        came while it was open and made this approval the completing one is said in the
        form, which then does not cast it unasked."""
        from console.domain.consensus import Kind
        from console.domain.errors import PolicyRefused
        from widgets.dialogs.modals import Field, FormScreen

        app, p = self.app, view.proposal
        production = p.ref.environment == "production"
        fields = [Field("comment", "Comment (optional):", required=False)]
        note = ""
        if completes:
            note = f"Your approval completes the quorum: {p.describe()} runs now."
        if completes and production:
            name = p.ref.service
            what = (
                f"deploy {name} {p.revision} to production"
                if p.kind is Kind.DEPLOY
                else p.describe()
            )
            note = f"Your approval completes the quorum: {what} now? Type {name} to go ahead."
            fields.append(
                Field(
                    "confirm",
                    f"Type {name} to run it now:",
                    required=False,
                    check=lambda typed: None if typed == name else f"type {name} to run it",
                )
            )

        async def unchanged(values: dict[str, str]) -> str | None:
            try:
                latest = await app.actions.fetch_proposal(p.id)
                now_completes = app.actions.approval_completes(latest)
            except PolicyRefused:
                return None  # the engine refuses the vote and says why
            if now_completes and not completes:
                return (
                    "another approval came meanwhile: yours now completes the quorum and runs "
                    "the change; Esc, then a again to confirm it"
                )
            return None

        return FormScreen(f"approve: {p.describe()}", fields, note, validate=unchanged)

    @flow("vote")
    async def provider_vote(self, approval_id: str, approve: bool) -> None:
        """`a`/`x` on a provider's own approval: sent to that provider as this person's
        review (console.engine.provider_votes), with a comment (required to reject)."""
        from console.engine.provider_votes import vote_on_provider_approval
        from widgets.dialogs.modals import Field, FormScreen

        app = self.app
        label = "Why (comment):" if not approve else "Comment (optional):"
        fields = [Field("comment", label, required=not approve)]
        verb = "approve" if approve else "reject"
        values = await app.push_screen_wait(FormScreen(f"{verb}: {approval_id}", fields))
        if values is None:
            return
        comment = values["comment"]
        try:
            with self.under_way():
                result = await vote_on_provider_approval(app.actions, approval_id, approve, comment)
        except (QuorumError, ProviderError) as exc:
            app.say(str(exc), error=True)
        else:
            app.say(result.describe(), title="vote")
        app.feeds.refresh_side(force=True)

    @flow("silence", exclusive=True)
    async def silence(self) -> None:
        """`:silence`: pick a firing alert, say for how long and why; sent to its
        Alertmanager through the engine (console.engine.silences: audited, team told)."""
        from console.domain.durations import DurationError, parse_duration
        from console.engine.silences import silence_alert
        from widgets.base.alerts import where
        from widgets.dialogs.modals import Field, FormScreen, PickScreen

        app = self.app
        alerts = views.firing_alerts(app.hub.states.values())
        if not alerts:
            app.say("no alert is firing: nothing to silence")
            return
        options = [
            (a.id, f"{a.severity or 'alert'} {a.name} {where(a)} {a.summary}".strip())
            for a in alerts
        ]
        picked = await app.push_screen_wait(PickScreen("silence which alert?", options))
        if not picked:
            return

        def duration(text: str) -> str | None:
            try:
                parse_duration(text)
            except DurationError as exc:
                return str(exc)
            return None

        fields = [
            Field("duration", "For how long:", value="2h", check=duration),
            Field("comment", "Why (comment):"),
        ]
        values = await app.push_screen_wait(FormScreen(f"silence {picked}", fields))
        if values is None:
            return
        try:
            with self.under_way():
                result = await silence_alert(
                    app.actions, picked, parse_duration(values["duration"]), values["comment"]
                )
        except (QuorumError, ProviderError) as exc:
            app.say(str(exc), error=True, title="silence refused")
        else:
            app.say(result.describe(), title="silence")
        app.hub.refresh_now()

    @flow("override")
    async def override(self, pid: int, what: str) -> None:
        """`o` in Approvals: the emergency override, with a reason and the target's name."""
        from widgets.dialogs.modals import ConfirmScreen, Field, FormScreen

        app = self.app
        view = await self._to_change("override", pid)
        if view is None:
            return
        name = view.proposal.ref.service
        fields = [Field("reason", "Reason (goes to the audit log):")]
        values = await app.push_screen_wait(FormScreen(f"emergency override: {what}", fields))
        if values is None:
            return
        question = (
            f"Emergency override of {what}: it runs now, the team is notified "
            "and it waits for review by someone else."
        )
        if await app.push_screen_wait(ConfirmScreen(question, expect=name)):
            reason = values["reason"]
            await self.change(
                lambda: app.actions.override(pid, reason),
                f"overrode proposal {pid}",
                title="override",
            )

    @flow("review")
    async def review(self, pid: int, what: str) -> None:
        """`R`: mark an override reviewed, with a comment."""
        from widgets.dialogs.modals import Field, FormScreen

        app = self.app
        view = await self._to_change("review an override", pid, title="review")
        if view is None:
            return
        p = view.proposal
        if p.override_by == app.identity.name:  # refused at once: no comment asked for
            await self.change(
                lambda: app.actions.review(pid, ""),
                f"reviewed override of proposal {pid}",
                title="review",
            )
            return
        fields = [Field("comment", "Review comment:", required=False)]
        values = await app.push_screen_wait(
            FormScreen(f"review emergency override: {what}", fields)
        )
        if values is not None:
            await self.change(
                lambda: app.actions.review(pid, values["comment"]),
                f"reviewed override of proposal {pid}",
                title="review",
            )

    # ---- Services: restart, scale, roll back, describe ---------------------------

    @flow("restart", exclusive=True)
    async def restart(self) -> None:
        """`r` in Services: restart the selected target (production asks for its name)."""
        from console.domain.consensus import Kind
        from console.engine.actions import needs_votes
        from widgets.dialogs.modals import ConfirmScreen

        app = self.app
        if (row := self._target()) is None:
            return
        ref = row.target.ref
        if not await self._allowed(ref, Kind.RESTART):
            return
        policy = app.session.config.policy(ref.environment)
        votes = "it needs consensus: a proposal opens" if needs_votes(policy) else "no vote"
        question = f"Restart every replica of {ref.service}@{ref.environment}? ({votes})"
        expect = ref.service if ref.environment == "production" else None
        if await app.push_screen_wait(ConfirmScreen(question, expect=expect)):
            await self.change(
                lambda: app.actions.restart(ref),
                f"restarted {ref.service}@{ref.environment}",
                title="restart",
            )

    @flow("scale", exclusive=True)
    async def scale(self) -> None:
        """`s` in Services: scale the selected target to a number of replicas."""
        from console.domain.consensus import Kind
        from console.engine.actions import needs_votes
        from widgets.dialogs.modals import Field, FormScreen

        app = self.app
        if (row := self._target()) is None:
            return
        ref, desired = row.target.ref, row.target.desired
        if not await self._allowed(ref, Kind.SCALE):
            return
        policy = app.session.config.policy(ref.environment)
        note = (
            f"{ref.environment} needs consensus: a proposal opens"
            if needs_votes(policy)
            else f"{ref.environment} needs no vote: this scales at once"
        )
        fields = [
            Field("replicas", f"Replicas (0 to {MAX_REPLICAS}):", str(desired), check=_replicas)
        ]
        values = await app.push_screen_wait(
            FormScreen(f"scale {ref} (now {desired})", fields, note)
        )
        if values is None:
            return
        replicas = int(values["replicas"])
        await self.change(
            lambda: app.actions.scale(ref, replicas),
            f"scaled {ref.service}@{ref.environment} to {replicas}",
            title="scale",
        )

    @flow("rollback", exclusive=True)
    async def rollback(self) -> None:
        """ctrl+l: roll the selected target back (no vote; production asks for its name)."""
        from console.domain.consensus import Kind
        from widgets.dialogs.modals import ConfirmScreen

        app = self.app
        if (row := self._target()) is None:
            return
        ref, current = row.target.ref, row.target.revision
        if not await self._allowed(ref, Kind.ROLLBACK):
            return
        where = f"{ref.service}@{ref.environment}"
        revision = await self._pick_earlier(ref, current, f"roll back {where} from {current} to")
        if not revision:
            return
        question = (
            f"Roll back {where} from {current} to {revision}? "
            "No vote is needed; the team is notified."
        )
        expect = ref.service if ref.environment == "production" else None
        if await app.push_screen_wait(ConfirmScreen(question, expect=expect)):
            await self.change(
                lambda: app.actions.rollback(ref, to=revision),
                f"rolled back {where} to {revision}",
                title="rollback",
            )

    @flow("canary", exclusive=True)
    async def canary(self) -> None:
        """`c` in Services: act on the selected row's canary verdict, through the same
        actions path as any deploy or rollback (a promote follows the environment's
        policy, a rollback needs no vote); the target acted on is the row's own, or the
        row of the same service and environment whose provider can make the change."""
        from console.domain.canary import Verdict, judge, step_for
        from console.domain.consensus import Kind
        from widgets.dialogs.modals import ConfirmScreen

        app = self.app
        if (row := self._target()) is None:
            return
        ref, canary = row.target.ref, row.target.canary
        where = f"{ref.service}@{ref.environment}"
        if canary is None:
            app.say(f"{where} has no canary taking traffic")
            return
        judged = judge(canary, app.session.config.thresholds_for(ref.service))
        need = Capability.ROLLBACK if judged.verdict is Verdict.ROLLBACK else Capability.DEPLOY
        acting = self._runner(row, need)
        if acting is None and judged.verdict is not Verdict.WAIT:
            app.say(f"{judged.line()}: no provider here can {judged.verdict} {where}")
            return
        runs = acting.target.revision if acting is not None else ""
        step = step_for(judged, runs, row.target.revision)
        if isinstance(step, str) or acting is None:
            app.say(f"{where}: {step}")
            return
        target = acting.target.ref
        kind = Kind.DEPLOY if step.kind == "deploy" else Kind.ROLLBACK
        if not await self._allowed(target, kind):
            return
        what = (
            f"Promote the canary: deploy {step.revision} to {target}?"
            if kind is Kind.DEPLOY
            else f"Roll back the canary: {target} back to {step.revision or 'its revision before'}?"
        )
        expect = ref.service if ref.environment == "production" else None
        if not await app.push_screen_wait(ConfirmScreen(f"{judged.line()}. {what}", expect=expect)):
            return
        if kind is Kind.DEPLOY:
            await self.change(
                lambda: app.actions.propose(
                    Kind.DEPLOY, target, revision=step.revision, reason=judged.line()
                ),
                PROPOSED,
                title="canary promote",
            )
        else:
            await self.change(
                lambda: app.actions.rollback(target, to=step.revision or None),
                f"rolled back {where} from the canary",
                title="canary rollback",
            )

    def _runner(self, row: ServiceView, need: Capability) -> ServiceView | None:
        """The row that runs `row`'s service in its environment and whose provider can
        `need`: the row itself first, then the others of the same pair."""
        ref = row.target.ref
        same = [
            v
            for v in self.app.feeds.views.values()
            if (v.target.ref.service, v.target.ref.environment) == (ref.service, ref.environment)
        ]
        for view in [row, *(v for v in same if v.key != row.key)]:
            provider = self.app.feeds.provider_of(view.target.ref)
            if provider is not None and provider.can(need):
                return view
        return None

    @flow("describe", exclusive=True)
    async def describe(self) -> None:
        """`d` in Services: the selected target's pods and recent events (k9s describe).
        It only reads, so it stays under --readonly; a backend without details says so."""
        app = self.app
        if (row := self._target()) is None:
            return
        ref = row.target.ref
        what = f"describe {ref.service}@{ref.environment}"
        try:
            details = await reads.details(app.session, ref, timeout=app.hub.timeout)
        except QuorumError as exc:
            app.say(f"cannot {what}: {exc}", error=True)
            return
        if row.platforms:  # a site row: its head says what the row says, every platform
            details = dataclasses.replace(details, target=row.target)
        from widgets.dialogs.details import DetailsScreen  # not needed for the first paint

        # One describe screen, installed so closing it keeps it: see DetailsScreen.
        if not app.is_screen_installed("describe"):
            app.install_screen(DetailsScreen(details, app.now()), "describe")
        screen = app.get_screen("describe")
        assert isinstance(screen, DetailsScreen)
        screen.show(details, app.now())
        if app.screen is not screen:
            app.push_screen(screen)

    # ---- actions a crash left incomplete -----------------------------------------

    @flow("incomplete", exclusive=True)
    async def show_incomplete(self, at_start: bool = False) -> None:
        """At start and on `:incomplete`: actions between started and finished, to
        resolve by hand once someone checked the target. Asked for, none is an answer
        too; at start, none needs no word."""
        from widgets.dialogs.modals import PickScreen

        app = self.app
        try:
            # At start, only what a crash left: an action still running here is no news.
            records = await app.actions.fetch_incomplete(crashed_only=at_start)
        except QuorumError as exc:
            if at_start:  # a read of its own, beside the others: said once with them
                app.say_failed("cannot read incomplete actions", exc)
            else:
                app.say(f"cannot read incomplete actions: {exc}", error=True)
            return
        if not records:
            if not at_start:
                app.say("no incomplete actions: every action recorded as started has finished")
            return
        note = (
            "These actions started and never finished (a console or command died during the "
            "call). Check the target, then pick one to record what really happened; Esc leaves "
            "them for later (:incomplete)."
        )
        options = views.incomplete_options(records)
        key = await app.push_screen_wait(PickScreen("incomplete actions", options, note=note))
        if not key:
            return
        if app.readonly:
            app.say("read-only console: resolving an action is disabled", error=True)
            return
        outcomes = [
            ("finished", "it finished: the target runs the new revision"),
            ("failed", "it failed: the target did not change"),
        ]
        chosen = await app.push_screen_wait(PickScreen(f"what happened to {key}?", outcomes))
        if chosen:
            await self.change(
                lambda: app.actions.resolve(key, chosen, "recorded from the console"),
                f"recorded {key} as {chosen}",
                title="incomplete action",
            )
