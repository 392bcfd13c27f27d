"""The one path every change takes, from the TUI and the command line alike.

policy check → audit "started" with an idempotency key → provider call (or the
team's deploy command) → audit "finished"/"failed" → notification. The key is
claimed atomically before anything runs (`console.store.claims`), so a retry with
the same key never executes twice, and an action whose process died mid-call stays
listed as incomplete until an operator records its real outcome (`resolve`).

Proposals are read and changed through `console.engine.ledger`: every state is
derived from the signed acts, at each read and again inside the execution claim;
the vote, override or proposal that makes one approved executes it in the same
call. Notifications never block or undo an action: they are sent after it, each
sink with its own timeout.

Every store call runs in a worker thread (`in_worker`): the caller's event loop (the
console's keys) keeps running while another process holds the file's write lock,
for up to the busy timeout. The `fetch_*` methods are the same reads for async callers.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from console.domain import consensus as rules
from console.domain.acts import (
    AmendAct,
    OverrideAct,
    ProposalAct,
    ReviewAct,
    VoteAct,
    WithdrawAct,
)
from console.domain.bounds import MAX_REPLICAS
from console.domain.certificate import build as build_certificate
from console.domain.certificate import dumps as dump_certificate
from console.domain.consensus import Kind, Proposal, State, Tally
from console.domain.derive import Act, Derived, Signed, content_at
from console.domain.errors import PolicyRefused, QuorumError, UsageError
from console.domain.identity import Identity, require_member
from console.domain.instants import iso_utc
from console.domain.model import TargetRef, utcnow
from console.domain.settings import Policy
from console.engine import collector
from console.engine.audit_watch import head_gone, seen_heads
from console.engine.deploy_command import (
    DeployCommandError,
    OnOutput,
    command_problem,
    consensus_environment,
    run_deploy_command,
)
from console.engine.dispatch import CHANGES, capability_of
from console.engine.guard import out_of_reach, refuse_if_readonly
from console.engine.ledger import AlreadyPending, Ledger, Pending, proposal_key
from console.engine.owner import Owner, alive, this_process
from console.engine.reads import bounded
from console.engine.session import Session
from console.notify.sinks import Notice, send_all
from console.signing.signer import Signer
from console.store import backends
from console.store.audit import AuditError, AuditLog, AuditRecord
from console.store.claims import FAILED, FINISHED, Claim, ClaimStore
from console.store.db import StoreError
from console.store.files import MIN_FREE_BYTES, free_bytes

if TYPE_CHECKING:
    from console.store.postgres.audit import PgAuditLog
    from console.store.postgres.claims import PgClaimStore
    from console.store.postgres.listen import LedgerWatch
    from console.store.postgres.proposals import PgProposalStore
    from console.store.proposals import ProposalStore
from providers.base import Progress, Provider, ProviderError, progress_sink

T = TypeVar("T")
WAITING_AFTER = 0.5  # seconds a store call may take before `on_waiting` is told
SETTLED = (State.EXECUTED, State.FAILED, State.WITHDRAWN)
# The most settled proposals a listing of recent outcomes shows: a window of a busy
# team's history stays one bounded read.
SETTLED_SHOWN = 200


def needs_votes(policy: Policy) -> bool:
    """Whether a change in this environment must go through a proposal."""
    return policy.min_approvals > 0 or bool(policy.require_rotation_approval)


RESERVED_KEY_PREFIX = "proposal-"
# The audit action each kind of act is recorded under (Actions._change).
_AUDITED_AS = {
    ProposalAct: "propose",
    AmendAct: "amend",
    VoteAct: "vote",
    OverrideAct: "override",
    WithdrawAct: "withdraw",
    ReviewAct: "review",
}

__all__ = [
    "ActionIncomplete",
    "Actions",
    "AlreadyProposed",
    "NeedsConsensus",
    "Outcome",
    "ProposalView",
    "Result",
    "proposal_key",
]


@dataclass(frozen=True, slots=True)
class ProposalView:
    """A proposal as shown at one instant: its state evaluated, its votes tallied."""

    proposal: Proposal
    tally: Tally
    policy: Policy
    # Acts stored for this proposal that do not count, and why (forged, not a member...).
    ignored: tuple[tuple[Signed, str], ...] = ()
    signed: bool = False  # whether the team's acts are signed (keys in the config)

    @property
    def id(self) -> int:
        return self.proposal.id

    @property
    def state(self) -> State:
        return self.proposal.state

    @property
    def summary(self) -> str:
        """One line: what is still needed ("needs 1 more approval; rejections 1 of 2 ...")."""
        p = self.proposal
        if p.state is State.APPROVED and p.overridden:
            return f"overridden by {p.override_by}: {p.override_reason}"
        if p.state in rules.VOTABLE:
            return self.tally.summary()
        return p.state.value + (f": {p.detail}" if p.detail else "")

    def to_json(self) -> dict[str, object]:
        """The proposal object of every `--json` output (documented in the README).

        Its instants are written as `print_json` would write them (`iso_utc`), here: a
        listing has two per proposal and more per vote, and the encoder's callback for
        each cost more than the formatting."""
        p, t = self.proposal, self.tally
        counted = {*t.approvals, *t.rejections} if p.votes else ()
        return {
            "id": p.id,
            "state": p.state.value,
            "approvals": list(t.approvals),
            "rejections": list(t.rejections),
            "needed": t.needed,
            "kind": p.kind.value,
            "service": p.ref.service,
            "environment": p.ref.environment,
            "provider": p.ref.provider,
            "target": p.ref.target,
            "revision": p.revision,
            "replicas": p.replicas,
            "proposer": p.proposer,
            "reason": p.reason,
            "summary": self.summary,
            "blocked_at": t.block_on_rejections,
            "rotation": t.rotation,
            "rotation_holder": t.rotation_holder,
            "stuck": (t.stuck or None) if p.state in rules.VOTABLE else None,
            "created_at": iso_utc(p.created_at),
            "expires_at": iso_utc(p.updated_at + self.policy.vote_ttl),
            "votes": [
                {
                    "voter": v.voter,
                    "vote": "approve" if v.approve else "reject",
                    "at": iso_utc(v.at),
                    "revision": v.revision,
                    "version": v.version,
                    "comment": v.comment,
                    "counts": v.voter in counted,
                }
                for v in p.votes
            ],
            "override": None
            if not p.overridden
            else {
                "by": p.override_by,
                "reason": p.override_reason,
                "at": iso_utc(p.override_at),
                "reviewed_by": p.reviewed_by or None,
                "reviewed_at": iso_utc(p.reviewed_at),
                "review_comment": p.review_comment,
            },
            "detail": p.detail,
            "version": p.version,
            "signed": self.signed,
            "not_counted": [
                {
                    "act": type(s.act).__name__.removesuffix("Act").lower(),
                    "by": s.act.author,
                    "why": why,
                }
                for s, why in self.ignored
            ],
        }


@dataclass(frozen=True)
class Outcome:
    """How one execution ended; `replayed` when the key had run before and nothing ran now."""

    key: str
    action: str
    ok: bool
    detail: str
    replayed: bool = False
    # Set when the ledger could not record how the action ended (a full disk): says
    # what was and was not recorded, so nobody trusts a log that misses the end.
    warning: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "action": self.action,
            "ok": self.ok,
            "detail": self.detail,
            "replayed": self.replayed,
            "warning": self.warning or None,
        }


@dataclass(frozen=True)
class Result:
    """A proposal after a step, and the execution that step caused, if any."""

    proposal: ProposalView
    outcome: Outcome | None = None


class NeedsConsensus(PolicyRefused):
    """A direct change the policy gates: a proposal was opened instead."""

    def __init__(self, view: ProposalView) -> None:
        self.view = view
        # The proposer reads this: where they may not approve their own change, the
        # vote is the others' to cast.
        voters = "members vote" if view.policy.allow_self_approval else "the other members vote"
        super().__init__(
            f"{view.proposal.ref.environment} needs consensus: opened proposal {view.id} "
            f"({view.tally.summary()}); {voters} with `quorum vote {view.id} approve|reject`"
        )


class AlreadyProposed(PolicyRefused):
    """The same change is proposed and still pending: pointed to, never opened twice."""

    def __init__(self, view: ProposalView) -> None:
        self.view = view
        p = view.proposal
        super().__init__(
            f"not proposed again: proposal {p.id} already proposes {p.describe()} "
            f"({p.state.value}, proposed by {p.proposer}; {view.summary})"
        )


class UnconfirmedRun(PolicyRefused):
    """An approval that would complete the quorum, and so run the change now, from a
    voter who did not agree to that (another vote came in since they read the
    proposal). Nothing is recorded: they approve again, knowing it runs."""

    def __init__(self, p: Proposal) -> None:
        super().__init__(
            f"proposal {p.id}: your approval would now complete the quorum and run "
            f"{p.describe()} at once, which you had not confirmed (another vote came since "
            "you read it); nothing was recorded: approve again to confirm it runs"
        )


class ActionIncomplete(QuorumError):
    """The key started before and has no recorded outcome; running it again could repeat it."""

    def __init__(self, record: Claim) -> None:
        self.record = record
        super().__init__(
            f"action {record.key} ({record.action} {record.ref.service}@{record.ref.environment}) "
            f"started at {record.started_at:%Y-%m-%d %H:%M:%S}Z and never finished; record what "
            f"happened with `quorum actions resolve {record.key} --outcome finished|failed`"
        )


class Actions:
    """Every change Quorum makes, for one session and one acting person."""

    def __init__(
        self,
        session: Session,
        *,
        identity: Identity | None = None,
        on_output: OnOutput | None = None,
        on_waiting: Callable[[], None] | None = None,
        on_warning: Callable[[str], None] | None = None,
        on_progress: Progress | None = None,
        clock: Callable[[], datetime] = utcnow,
        unreachable: str | None = None,
    ) -> None:
        """`on_output` gets a team deploy command's lines; `on_waiting` is called when a
        store call has waited `WAITING_AFTER` seconds (another process holds the file's
        write lock), so a front end can say the change is waiting; `on_warning` is told
        what went wrong beside a change that went through (a notice not delivered), so
        every front end warns the same way. `unreachable`: why the PostgreSQL ledger was
        out of reach when the front end started (its `identity` is then unknown): every
        change is refused until the watch (`watch_ledger`) reaches the server."""
        self.session = session
        self.config = session.config
        self.identity = identity or backends.identity(self.config)
        self.on_output: OnOutput = on_output or (lambda line: None)
        self.on_waiting = on_waiting
        self.on_warning: Callable[[str], None] = on_warning or (lambda line: None)
        # How far a long provider call got (a site upload, a followed rollout):
        # (what, done, total), possibly from a worker thread.
        self.on_progress = on_progress
        self.clock = clock
        signers = self.config.signers
        self.signer = Signer(self.identity.name, signers) if signers is not None else None
        self._audit_log: AuditLog | PgAuditLog | None = None
        self._ledger: Ledger | None = None
        self._claims: ClaimStore | PgClaimStore | None = None
        self._opening = threading.Lock()
        self._watch: LedgerWatch | None = None  # a console's LISTEN on a PostgreSQL ledger
        self._unreachable = unreachable
        # The open proposals' views as last derived: (file version, when, the ledger's
        # answer they were made from, views).
        self._open: tuple[tuple[int, int], datetime, Pending, tuple[ProposalView, ...]] | None = (
            None
        )

    # The stores open on first use (creating their tables may wait on the file's lock),
    # which is in a worker thread when that use is `in_worker`.

    @property
    def audit(self) -> AuditLog | PgAuditLog:
        with self._opening:
            if self._audit_log is None:
                signer = self.signer.sign if self.signer else None
                self._audit_log = backends.audit_log(self.config, self.session.audit_path, signer)
            return self._audit_log

    @property
    def ledger(self) -> Ledger:
        claims = self.claims
        with self._opening:
            if self._ledger is None:
                self._ledger = Ledger(
                    self.config,
                    self.session.audit_path,
                    claims,
                    signer=self.signer,
                    clock=self.clock,
                )
            return self._ledger

    @property
    def proposals(self) -> ProposalStore | PgProposalStore:
        """The cached rows, for listings only: states come from `ledger`."""
        return self.ledger.store

    @property
    def claims(self) -> ClaimStore | PgClaimStore:
        with self._opening:
            if self._claims is None:
                self._claims = backends.claim_store(self.config, self.session.audit_path)
            return self._claims

    def watch_ledger(self, on_change: Callable[[], None]) -> bool:
        """On a PostgreSQL ledger, listens for its changes (`LedgerWatch`): `on_change`
        is called, from the watch's thread, after each one and when the ledger goes out
        of reach or comes back. False on the SQLite file, whose readers ask
        `ledger_version` (one cheap pragma) instead."""
        watch = backends.ledger_watch(self.config, on_change, self._unreachable)
        if watch is None:
            return False
        watch.on_lost = self._drop_connections
        watch.on_reached = self._authenticated
        self._watch = watch
        watch.start()
        return True

    @property
    def ledger_generation(self) -> int | None:
        """How many changes (and reconnections) the watch has heard of; None without one."""
        return None if self._watch is None else self._watch.generation

    @property
    def ledger_error(self) -> str | None:
        """Why the watched ledger is out of reach (stale), None while it is not; before
        the watch starts, why it was out of reach at start, if it was."""
        return self._unreachable if self._watch is None else self._watch.error

    def _authenticated(self, user: str) -> None:
        """The watch reached the server, which authenticated `user`: a console that
        started without the ledger acts as that role from now on (the author the
        server writes on every act), and signs as that member where the team signs."""
        if self.identity.known:
            return
        self.identity = replace(self.identity, name=user)
        if self.signer is not None:
            self.signer.member = user

    def _drop_connections(self) -> None:
        """The server ended the stores' connections: each connects again when next used."""
        ledger = self._ledger
        for store in (self._audit_log, ledger.store if ledger else None, self._claims):
            drop = getattr(store, "drop", None)
            if drop is not None:
                drop()

    def close(self) -> None:
        if self._watch is not None:
            self._watch.stop()
        for store in (self._audit_log, self._ledger, self._claims):
            if store is not None:
                store.close()
        if self.signer is not None:
            self.signer.close()

    async def in_worker(self, call: Callable[[], T]) -> T:
        """Runs store work in a worker thread; the caller's loop keeps running meanwhile.

        If the work is still waiting after `WAITING_AFTER` seconds, `on_waiting` is told
        once (a notice for people, not a timeout: the work goes on until the busy
        timeout). A failure of the file itself becomes a StoreError line."""
        work = asyncio.ensure_future(asyncio.to_thread(call))
        if self.on_waiting is not None:
            done, _ = await asyncio.wait({work}, timeout=WAITING_AFTER)
            if not done:
                self.on_waiting()
        try:
            return await work
        except sqlite3.Error as exc:  # the file itself failed: one line, not a traceback
            raise StoreError.of(self.session.audit_path, exc) from None

    # -- reading ---------------------------------------------------------------------

    def policy(self, environment: str) -> Policy:
        return self.config.policy(environment)

    def _derived_view(self, derived: Derived, now: datetime | None = None) -> ProposalView:
        return self._derived_views([derived], now or self.clock())[0]

    def _derived_views(self, found: Iterable[Derived], now: datetime) -> list[ProposalView]:
        """Each of `found` with its tally: the one its state was decided by, else tallied
        at `now` (the derivation holds until its votes' time moves, and no view outlives
        that: `Ledger.pending`). The ledger and its settings looked up once, as the open
        list has thousands."""
        ledger = self.ledger
        signed = ledger.signed
        views = []
        for derived in found:
            p = derived.proposal
            policy = self.policy(p.ref.environment)
            tally = derived.tally
            if tally is None:
                # The votes of a legacy or invalid proposal stay readable on it, and none
                # counts.
                invalid = p.state in (State.INVALID, State.LEGACY)
                counting = replace(p, votes=()) if invalid else p
                tally = rules.tally(counting, policy, now, ledger.holder(policy, p.created_at))
            views.append(ProposalView(p, tally, policy, derived.ignored, signed))
        return views

    def view(self, proposal: Proposal) -> ProposalView:
        """`proposal` as its signed acts make it now (the fields passed in are not believed)."""
        return self._derived_view(self.ledger.derived(proposal.id))

    def get(self, pid: int) -> ProposalView:
        return self._derived_view(self.ledger.derived(pid))

    def open_proposals(self) -> list[ProposalView]:
        """Proposals still waiting for votes or execution (expired ones drop out), oldest first.

        Kept, like the ledger's `pending`, while the file is unchanged and no vote or
        proposal has reached its time: the console asks every two seconds.
        """
        return list(self._open_views()[0])

    def open_until(self) -> tuple[tuple[ProposalView, ...], datetime]:
        """`open_proposals` and the instant until which they hold, the file unchanged."""
        views, held = self._open_views()
        return views, held.until

    def _open_views(self) -> tuple[tuple[ProposalView, ...], Pending]:
        now = self.clock()
        version = self.ledger.version()
        memo = self._open
        if memo is not None and memo[0] == version and memo[1] <= now < memo[2].until:
            return memo[3], memo[2]
        held = self.ledger.pending_held(now)
        with collector.paused():
            views = tuple(self._derived_views(held.found, now))
        self._open = (version, now, held, views)
        return views, held

    def ledger_version(self) -> tuple[int, int]:
        """Changes whenever the shared file does (`Ledger.version`): a reader that saw
        this value before has nothing new to read while it stays the same. A watched
        PostgreSQL ledger answers from what the watch heard, with no query."""
        if self._watch is not None:
            return self._watch.generation, 0
        return self.ledger.version()

    def awaiting_review(self) -> list[ProposalView]:
        """Overrides nobody but their author has looked at yet: the review queue."""
        done = self.ledger.overridden()
        return [self._derived_view(d) for d in done if d.proposal.awaiting_review]

    def incomplete(self) -> list[Claim]:
        """Actions that started and never finished (crash recovery; the TUI shows them at start)."""
        return self.claims.incomplete()

    def settled_since(self, since: datetime, limit: int = SETTLED_SHOWN) -> list[ProposalView]:
        """Proposals executed, failed or withdrawn since `since`, so an outcome stays in view:
        the `limit` newest, oldest first. Only rows inside the window are read (SQL picks
        them on the `updated_at` index), however long the history."""
        done = self.proposals.settled_since(SETTLED, since, limit)
        views = [self.view(p) for p in reversed(done)]
        return [v for v in views if v.state in SETTLED]

    # -- the same reads for async callers, off the event loop -------------------------

    async def fetch_proposal(self, pid: int) -> ProposalView:
        return await self.in_worker(lambda: self.get(pid))

    async def fetch_open(self) -> list[ProposalView]:
        return await self.in_worker(self.open_proposals)

    async def fetch_open_until(self) -> tuple[tuple[ProposalView, ...], datetime]:
        return await self.in_worker(self.open_until)

    async def fetch_ledger_version(self) -> tuple[int, int]:
        return await self.in_worker(self.ledger_version)

    async def fetch_awaiting_review(self) -> list[ProposalView]:
        return await self.in_worker(self.awaiting_review)

    async def fetch_settled_since(self, since: datetime) -> list[ProposalView]:
        return await self.in_worker(lambda: self.settled_since(since))

    async def fetch_incomplete(self, *, crashed_only: bool = False) -> list[Claim]:
        """`crashed_only` leaves out actions whose process still runs on this host: a
        console opened while a teammate's deploy is under way must not offer it as a
        crash to resolve."""
        found = await self.in_worker(self.incomplete)
        return [c for c in found if not (crashed_only and still_running(c))]

    async def fetch_audit(self, after_seq: int = 0, limit: int = 200) -> list[AuditRecord]:
        """Records after `after_seq`, or the last `limit` ones when it is 0, oldest first."""
        if after_seq:
            return await self.in_worker(lambda: self.audit.since(after_seq))
        return await self.in_worker(lambda: self.audit.tail(limit))

    # -- guards ----------------------------------------------------------------------

    def _mutating(self, doing: str) -> None:
        refuse_if_readonly(self.session.readonly, doing)
        error = self.ledger_error
        if error is not None:
            raise out_of_reach(self.config, doing, error)  # the watch saw it go

    async def fetch_to_change(self, doing: str, pid: int) -> ProposalView:
        """The proposal a front end shows in the dialog of a change to it (`doing`, as
        the change names itself): the change's own first checks come before the read,
        and a read that finds the ledger out of reach is refused as the change, which
        is what the person asked for, not as the read."""
        from console.store.postgres.connect import LedgerUnreachable

        self.guard(doing, membership=False)
        try:
            return await self.fetch_proposal(pid)
        except LedgerUnreachable as exc:
            where = self.config.ledger.where if self.config.ledger else ""
            raise out_of_reach(
                self.config, doing, str(exc).removeprefix(f"ledger {where}: ")
            ) from None

    def _may(self, doing: str, identity: Identity | None = None, *, strict: bool) -> None:
        """Votes, overrides and reviews need membership; other changes need it once a
        team lists members (an empty list is a personal config without a team)."""
        if strict or self.config.members:
            require_member(self.config, identity or self.identity, doing)

    def guard(self, doing: str, *, membership: bool = True) -> None:
        """The checks every change passes before it is attempted: not read-only, and a
        member once the team lists members. `membership=False` for a change whose own
        rule admits more people (taking a swap: the rotation's people too)."""
        self._mutating(doing)
        if membership:
            self._may(doing, strict=False)

    def _can_sign(self) -> None:
        """Where the team signs its acts, refuses before anything is written if this
        person's key is not in reach (no agent, or no key of theirs in it)."""
        if self.signer is not None:
            self.signer.key()

    def _provider(self, ref: TargetRef, kind: Kind) -> Provider:
        provider = self.session.providers.get(ref.provider)
        if provider is None:
            raise UsageError(f"provider {ref.provider!r} is not configured or failed to start")
        capability = capability_of(kind)
        if not provider.can(capability):
            if provider.readonly and provider.capabilities & capability:
                raise PolicyRefused(f"provider {provider.name} is read-only: cannot {kind.value}")
            raise UsageError(f"provider {provider.name} ({provider.kind}) cannot {kind.value}")
        return provider

    async def denied(self, ref: TargetRef, kind: Kind) -> str | None:
        """Why the backend would refuse this person `kind` on `ref`; None when allowed.

        Asked before an action is offered and again before it runs, so a change the
        credentials may not make is refused with the backend's reason, never attempted.
        """
        provider = self._provider(ref, kind)
        what = f"access to {kind.value} {ref.service}@{ref.environment}"
        return await bounded(provider, what, provider.denied(ref, capability_of(kind)))

    async def _audit(
        self,
        action: str,
        *,
        ref: TargetRef,
        revision: str = "",
        outcome: str,
        comment: str = "",
        key: str = "",
        who: Identity | None = None,
    ) -> None:
        await self.in_worker(
            lambda: self.record(
                action,
                target=ref.key,
                environment=ref.environment,
                revision=revision,
                outcome=outcome,
                comment=comment,
                key=key,
                who=who,
            )
        )

    def record(
        self,
        action: str,
        *,
        target: str,
        outcome: str,
        comment: str = "",
        key: str = "",
        environment: str = "",
        revision: str = "",
        who: Identity | None = None,
    ) -> None:
        """Appends one audit record as the acting person, noting a seam-chosen identity.

        The one audit writer of every change, rotation changes included; blocking, so
        async code calls it through `in_worker`.
        """
        ident = who or self.identity
        note = "; ".join(part for part in (comment, ident.note) if part)
        self.audit.append(
            who=ident.name,
            action=action,
            target=target,
            environment=environment,
            revision=revision,
            outcome=outcome,
            comment=note,
            key=key,
        )

    async def _notify(self, title: str, text: str, severity: str = "info", **fields: str) -> None:
        if not self.config.notify:
            return
        notice = Notice(title=title, text=text, severity=severity, fields=fields)
        # send_all reports failures as results; nothing a sink does may undo the action.
        try:
            results = await send_all(
                self.config.notify, notice, audit=self.audit, who=self.identity.name
            )
        except Exception as exc:
            self.on_warning(f"notice not delivered: {type(exc).__name__}: {exc}")
            return
        for result in results:
            if not result.ok:
                self.on_warning(f"notice not delivered: {result.sink}: {result.error}")

    async def _change(
        self,
        action: str,
        stored: Proposal,
        make: Callable[[Proposal], Act],
        recorded: Callable[[Proposal, Proposal], tuple[str, str]],
        *,
        refusal: str | None = None,
        who: Identity | None = None,
        accept: Callable[[Proposal, Proposal], None] | None = None,
    ) -> tuple[Proposal, Proposal]:
        """Adds the act `make` builds to a proposal and audits the step under its key.

        `recorded(before, after)` gives the audited outcome and comment. With `refusal`,
        a PolicyRefused from the rules is audited as "refused" (`refusal: why`) before it
        propagates, so a refused override, review or vote leaves a trace. `accept` is
        the ledger's last word on the act (Ledger.act); an UnconfirmedRun it raises is
        a question back to the voter, not a refusal, and leaves no trace.
        """
        key = proposal_key(stored.id)
        try:
            before, after = await self.in_worker(lambda: self.ledger.act(stored.id, make, accept))
        except PolicyRefused as exc:
            if refusal is not None and not isinstance(exc, UnconfirmedRun):
                await self._audit(
                    action,
                    ref=stored.ref,
                    revision=stored.revision,
                    outcome="refused",
                    comment=f"{refusal}: {exc}",
                    key=key,
                    who=who,
                )
            raise
        outcome, comment = recorded(before, after)
        await self._audit(
            action,
            ref=after.ref,
            revision=after.revision,
            outcome=outcome,
            comment=comment,
            key=key,
            who=who,
        )
        return before, after

    # -- proposals -------------------------------------------------------------------

    async def propose(
        self,
        kind: Kind,
        ref: TargetRef,
        *,
        revision: str = "",
        replicas: int | None = None,
        reason: str = "",
    ) -> Result:
        """Opens a proposal; where the policy needs no votes it is approved and runs at once."""
        self._mutating("propose a change")
        self._may("propose a change", strict=False)
        if kind is Kind.DEPLOY and not revision:
            raise UsageError("a deploy needs a revision (--revision REV)")
        if kind is Kind.SCALE and (replicas is None or not 0 <= replicas <= MAX_REPLICAS):
            raise UsageError(f"scale needs a replica count from 0 to {MAX_REPLICAS}")
        rules.check_text(reason, "a proposal's reason (--reason)")
        provider = self._provider(ref, kind)
        if revision:
            rules.check_revision(revision)
        if kind is Kind.DEPLOY:
            await self._deployable(provider, ref, revision)
        self._can_sign()
        now = self.clock()
        draft = Proposal(
            id=0,
            kind=kind,
            ref=ref,
            revision=revision,
            proposer=self.identity.name,
            reason=reason,
            created_at=now,
            updated_at=now,
            replicas=replicas,
        )
        try:
            derived = await self.in_worker(
                lambda: self.ledger.propose(
                    draft, lambda row: ProposalAct(content_at(row), self.identity.name, reason, now)
                )
            )
        except AlreadyPending as exc:
            pending = exc.derived
            view = await self.in_worker(lambda: self._derived_view(pending))
            raise AlreadyProposed(view) from None
        created = derived.proposal
        key = proposal_key(created.id)
        await self._audit(
            "propose",
            ref=ref,
            revision=revision,
            outcome=created.state.value,
            key=key,
            comment=f"proposal {created.id}: {created.describe()}"
            + (f"; {reason}" if reason else ""),
        )
        view = await self.in_worker(lambda: self._derived_view(derived))
        if created.state is State.APPROVED:
            return await self._settled(created)
        await self._notify(
            f"Proposal {created.id}: {created.describe()}",
            f"{self.identity.name} proposes it; {view.summary}",
            proposal=str(created.id),
        )
        return Result(view)

    async def vote(
        self,
        pid: int,
        approve: bool,
        comment: str = "",
        *,
        seen_version: int | None = None,
        confirmed_run: bool = False,
    ) -> Result:
        """Casts (or replaces) the acting person's vote; completing the quorum executes.

        The vote is signed over the proposal's content at `seen_version`, the version
        the voter read (default: the current one); if it was amended since, the vote
        is refused, so nobody approves a revision they did not see. An approval that
        completes the quorum is cast only with `confirmed_run`, the voter's agreement
        that it runs the change now (the console's form asks for it; `quorum vote` is
        that agreement by its documented contract): judged under the write lock, so a
        vote another process cast since the voter read the proposal cannot make an
        unconfirmed approval the one that runs it. Refused, nothing is recorded.
        """
        return await self._vote(self.identity, pid, approve, comment, seen_version, confirmed_run)

    def approval_completes(self, view: ProposalView) -> bool:
        """Whether this person's approval, cast now on `view`, completes the quorum and so
        runs the change (the consensus rules decide, as for the vote itself); raises the
        PolicyRefused the vote would meet (a self-approval, a settled proposal)."""
        return rules.completes_quorum(
            view.proposal,
            view.policy,
            voter=self.identity.name,
            now=self.clock(),
            rotation_holder=view.tally.rotation_holder,
        )

    async def vote_as_teammate(self, name: str, pid: int, approve: bool, comment: str) -> Result:
        """A sandbox teammate's vote; refused for anyone the config does not simulate."""
        if name not in {t.name for t in self.config.simulated_teammates}:
            raise PolicyRefused(f"{name} is not a simulated teammate of this config")
        if self.signer is not None:
            raise PolicyRefused("simulated teammates cannot sign: this team's votes are signed")
        ident = Identity(name=name, os_account=self.identity.os_account)
        return await self._vote(ident, pid, approve, comment, None, confirmed_run=True)

    async def _vote(
        self,
        ident: Identity,
        pid: int,
        approve: bool,
        comment: str,
        seen: int | None,
        confirmed_run: bool,
    ) -> Result:
        self._mutating("vote")
        self._may("vote", ident, strict=True)
        self._can_sign()
        stored = (await self.fetch_proposal(pid)).proposal
        now = self.clock()
        choice = "approve" if approve else "reject"

        def confirmed(before: Proposal, after: Proposal) -> None:
            runs = after.state is State.APPROVED and before.state is not State.APPROVED
            if runs and not confirmed_run:
                raise UnconfirmedRun(before)

        before, after = await self._change(
            "vote",
            stored,
            lambda p: VoteAct(
                pid, p.version if seen is None else seen, ident.name, approve, now, comment
            ),
            lambda *_: (choice, f"proposal {pid}" + (f": {comment}" if comment else "")),
            refusal=f"proposal {pid} {choice}",
            who=ident,
            accept=confirmed,
        )
        if after.state is State.APPROVED and before.state is not State.APPROVED:
            return await self._settled(after)
        if after.state is State.BLOCKED and before.state is not State.BLOCKED:
            await self._notify(
                f"Proposal {pid} blocked",
                f"{after.describe()}: {(await self.fetch_proposal(pid)).summary}",
                severity="warning",
            )
        return Result(await self.fetch_proposal(pid))

    async def amend(self, pid: int, revision: str) -> Result:
        """The proposer changes the revision: a new version, which earlier votes (signed
        over the old one) do not approve; the team is told."""
        self._mutating("amend a proposal")
        self._can_sign()
        rules.check_revision(revision)
        stored = (await self.fetch_proposal(pid)).proposal
        if stored.kind is Kind.DEPLOY:
            await self._deployable(self._provider(stored.ref, stored.kind), stored.ref, revision)
        now = self.clock()
        before, after = await self._change(
            "amend",
            stored,
            lambda p: AmendAct(pid, p.version + 1, revision, self.identity.name, now),
            lambda before, after: (
                after.state.value,
                f"proposal {pid}: revision {before.revision} -> {revision}",
            ),
        )
        lapsed = [v.voter for v in before.votes if v.version == before.version]
        await self._notify(
            f"Proposal {pid} amended: {after.describe()}",
            f"{self.identity.name} moved it from {before.revision} to {revision} "
            f"(version {after.version}); "
            + (
                f"the votes of {', '.join(lapsed)} were for the earlier revision and no "
                "longer count"
                if lapsed
                else "no vote was cast on the earlier revision"
            ),
            severity="warning",
            proposal=str(pid),
        )
        if after.state is State.APPROVED:
            return await self._settled(after)
        return Result(await self.fetch_proposal(pid))

    async def withdraw(self, pid: int) -> Result:
        self._mutating("withdraw a proposal")
        self._can_sign()
        stored = (await self.fetch_proposal(pid)).proposal
        now = self.clock()
        await self._change(
            "withdraw",
            stored,
            lambda p: WithdrawAct(pid, p.version, self.identity.name, now),
            lambda *_: ("withdrawn", f"proposal {pid}"),
        )
        return Result(await self.fetch_proposal(pid))

    async def override(self, pid: int, reason: str) -> Result:
        """Emergency bypass: executes at once, flagged, notified, queued for review."""
        self._mutating("override")
        self._may("override", strict=True)
        self._can_sign()
        if not reason.strip():
            raise UsageError("an override needs a reason (--reason TEXT)")
        stored = (await self.fetch_proposal(pid)).proposal
        now = self.clock()
        _, after = await self._change(
            "override",
            stored,
            lambda p: OverrideAct(pid, p.version, self.identity.name, reason.strip(), now),
            lambda _, after: (
                "approved",
                f"proposal {pid} overridden, awaiting review: {after.override_reason}",
            ),
            refusal=f"proposal {pid}",
        )
        # The change runs first: a slow or hanging webhook never delays an emergency.
        result = await self._settled(after, override=True)
        await self._notify(
            f"OVERRIDE of proposal {pid}: {after.describe()}",
            f"{self.identity.name} overrode the vote: {after.override_reason}. "
            "It ran at once and waits for review by someone else.",
            severity="critical",
            proposal=str(pid),
        )
        return result

    async def review(self, pid: int, comment: str = "") -> ProposalView:
        """Marks an override reviewed; its author is refused."""
        self._mutating("review an override")
        self._may("review an override", strict=True)
        self._can_sign()
        stored = (await self.fetch_proposal(pid)).proposal
        now = self.clock()

        def make(p: Proposal) -> Act:
            if not p.overridden or p.override_at is None:
                raise UsageError(f"proposal {pid} was not overridden; nothing to review")
            return ReviewAct(pid, p.override_by, p.override_at, self.identity.name, comment, now)

        _, after = await self._change(
            "review",
            stored,
            make,
            lambda _, after: (
                "recorded",
                f"override of proposal {pid} by {after.override_by}"
                + (f": {comment}" if comment else ""),
            ),
            refusal=f"proposal {pid}",
        )
        return await self.fetch_proposal(pid)

    async def run_approved(
        self, grace: timedelta = timedelta(minutes=1)
    ) -> list[Outcome | PolicyRefused]:
        """Executes approved proposals whose execution never started (a process died between
        approval and execution); returns each outcome, or why the execution was refused.

        Only those approved more than `grace` ago, so the process that approved one a
        moment ago keeps the job; one already claimed elsewhere is left to its claimant.
        """
        done: list[Outcome | PolicyRefused] = []
        cutoff = self.clock() - grace

        def stranded() -> list[Proposal]:
            return [
                d.proposal
                for d in self.ledger.pending(refresh=True)
                if d.proposal.state is State.APPROVED
                and d.proposal.updated_at < cutoff
                and self.claims.get(proposal_key(d.proposal.id)) is None
            ]

        for p in await self.in_worker(stranded):
            try:
                done.append(await self._run_proposal(p, override=p.overridden))
            except ActionIncomplete:
                continue
            except PolicyRefused as exc:
                done.append(exc)
        return done

    def _ledger_intact(self, derived: Derived) -> None:
        """Refuses to execute over a ledger that lost acts or whose audit log fails.

        A deleted act leaves no signature to fail, so each act the audit log recorded
        under the proposal's key must still be among its acts; and where the team
        signs, the log itself must verify (from the head this account checked last),
        so an act removed from both, with the chain re-hashed, is caught by the next
        record's signature.
        """
        pid = derived.proposal.id
        kinds = {"propose", "amend", "vote", "override", "withdraw", "review"}
        recorded = Counter(
            (r.action, r.who)
            for r in self.audit.by_key(proposal_key(pid))
            if r.action in kinds and r.outcome != "refused"
        )
        kept = Counter(
            (_AUDITED_AS[type(s.act)], s.act.author)
            for s in (*derived.counted, *(s for s, _ in derived.ignored))
        )
        for (action, who), n in recorded.items():
            if kept[(action, who)] < n:
                raise PolicyRefused(
                    f"proposal {pid}: the audit log records a {action} by {who} that its "
                    "acts no longer hold (deleted from the ledger); it does not run"
                )
        signers = self.config.signers
        if signers is None:
            return
        seen = seen_heads().get(backends.ledger_key(self.config, self.session.audit_path))
        gone = head_gone(self.audit, seen)
        if gone:
            raise PolicyRefused(f"{gone}; nothing runs until it is looked into")
        result = self.audit.verify(
            signers=signers,
            members=frozenset(self.config.members) if self.config.members else None,
            pinned=(seen.seq, seen.hash) if seen else None,
            signed_through=seen.signed_through if seen else 0,
        )
        if not result.ok:
            raise PolicyRefused(
                f"the audit log fails verification ({result.reason}); nothing runs until "
                "it is looked into (`quorum audit verify`)"
            )

    def certificate_of(self, pid: int) -> dict[str, object]:
        """The consensus certificate of a proposal that its signed acts made executable."""
        derived = self.ledger.derived(pid)
        if derived.proposal.state not in (State.APPROVED, State.EXECUTED, State.FAILED):
            raise PolicyRefused(
                f"proposal {pid} is {derived.proposal.state.value}: no consensus to certify"
            )
        return build_certificate(derived)

    def _write_certificate(self, derived: Derived) -> Path:
        """The certificate file a deploy command finds in QUORUM_CERTIFICATE."""
        folder = self.session.team_dir / "certificates"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"proposal-{derived.proposal.id}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(dump_certificate(build_certificate(derived)), encoding="utf-8")
        tmp.replace(path)
        return path

    async def _settled(self, p: Proposal, *, override: bool = False) -> Result:
        """Runs an approved proposal and returns it as it stands afterwards."""
        outcome = await self._run_proposal(p, override=override)
        return Result(await self.fetch_proposal(p.id), outcome)

    async def _run_proposal(self, p: Proposal, *, override: bool = False) -> Outcome:
        outcome = await self._execute(
            p.kind,
            p.ref,
            revision=p.revision,
            replicas=p.replicas,
            key=proposal_key(p.id),
            proposal=p,
            override=override,
        )
        if not outcome.replayed:
            try:
                await self._settle(p.id)
            except sqlite3.Error as exc:
                self.on_warning(f"proposal {p.id} could not be marked as settled: {exc}")
        return outcome

    async def _settle(self, pid: int) -> None:
        """Brings the cached row up to the derived state, now that the claim has its outcome."""
        await self.in_worker(lambda: self.ledger.recache(pid))

    # -- direct changes ----------------------------------------------------------------

    async def change(
        self,
        kind: Kind,
        ref: TargetRef,
        *,
        revision: str = "",
        replicas: int | None = None,
        key: str | None = None,
        reason: str = "",
    ) -> Outcome:
        """Makes one direct change of any kind (`console.engine.dispatch.CHANGES`).

        Rollback and pause need no vote anywhere; the others execute where the policy
        needs no votes and elsewhere open a proposal (NeedsConsensus). For a rollback,
        `revision` is the one to go back to ("" for the previous one).
        """
        if kind is Kind.DEPLOY and not revision:
            raise UsageError("a deploy needs a revision (--revision REV)")
        if kind is Kind.SCALE and (replicas is None or not 0 <= replicas <= MAX_REPLICAS):
            raise UsageError(f"replicas must be from 0 to {MAX_REPLICAS}")
        if revision:
            rules.check_revision(revision)
        rules.check_text(reason, "a change's reason (--reason)")
        if CHANGES[kind].anyone:
            doing = "roll back" if kind is Kind.ROLLBACK else "pause a rollout"
            self._mutating(doing)
            self._may(doing, strict=False)
            return await self._execute(kind, ref, revision=revision, key=_user_key(key, kind))
        return await self._direct(
            kind, ref, revision=revision, replicas=replicas, key=key, reason=reason
        )

    async def deploy(
        self, ref: TargetRef, revision: str, *, key: str | None = None, reason: str = ""
    ) -> Outcome:
        """Deploys where the policy needs no votes; elsewhere opens a proposal (NeedsConsensus)."""
        return await self.change(Kind.DEPLOY, ref, revision=revision, key=key, reason=reason)

    async def restart(self, ref: TargetRef, *, key: str | None = None) -> Outcome:
        return await self.change(Kind.RESTART, ref, key=key)

    async def scale(self, ref: TargetRef, replicas: int, *, key: str | None = None) -> Outcome:
        return await self.change(Kind.SCALE, ref, replicas=replicas, key=key)

    async def rollback(
        self, ref: TargetRef, to: str | None = None, *, key: str | None = None
    ) -> Outcome:
        """Anyone may roll back, without a vote; the team is notified."""
        return await self.change(Kind.ROLLBACK, ref, revision=to or "", key=key)

    async def pause(self, ref: TargetRef, *, key: str | None = None) -> Outcome:
        """Pausing a rollout is the emergency brake: anyone, no vote, the team notified."""
        return await self.change(Kind.PAUSE, ref, key=key)

    async def resume(self, ref: TargetRef, *, key: str | None = None) -> Outcome:
        """Resuming lets changes roll out again, so it follows the policy like a restart."""
        return await self.change(Kind.RESUME, ref, key=key)

    async def _direct(
        self,
        kind: Kind,
        ref: TargetRef,
        *,
        revision: str = "",
        replicas: int | None = None,
        key: str | None = None,
        reason: str = "",
    ) -> Outcome:
        self._mutating(kind.value)
        self._may(kind.value, strict=False)
        self._provider(ref, kind)
        if needs_votes(self.policy(ref.environment)):
            result = await self.propose(
                kind, ref, revision=revision, replicas=replicas, reason=reason
            )
            raise NeedsConsensus(result.proposal)
        return await self._execute(
            kind, ref, revision=revision, replicas=replicas, key=_user_key(key, kind), reason=reason
        )

    async def resolve(
        self, key: str, outcome: str, comment: str = "", *, force: bool = False
    ) -> Claim:
        """Records the real outcome of an incomplete action, as an operator found it.

        An action whose process still runs is refused (its outcome is not known yet),
        and so is one started on another host, which cannot be checked from here,
        unless `force` says the operator checked.
        """
        self._mutating("resolve an action")
        self._may("resolve an action", strict=False)
        rules.check_text(comment, "a resolution's comment (--comment)")
        current = await self.in_worker(lambda: self.claims.get(key))
        if current is not None and current.incomplete and not force:
            _refuse_if_running(current)
        now = self.clock()
        record = await self.in_worker(lambda: self.claims.finish(key, outcome, comment, now))
        await self._audit(
            record.action,
            ref=record.ref,
            revision=record.revision,
            outcome=outcome,
            key=key,
            comment="resolved by hand" + (f": {comment}" if comment else ""),
        )
        if record.proposal_id is not None:
            await self._settle(record.proposal_id)
        return record

    async def revision_problem(self, ref: TargetRef, revision: str) -> str | None:
        """Why a deploy of `revision` to `ref` would be refused before anyone votes, or
        None: a revision typed in the console is checked while its form is still open,
        by the same checks `propose` makes."""
        try:
            rules.check_revision(revision)
            await self._deployable(self._provider(ref, Kind.DEPLOY), ref, revision)
        except (QuorumError, ProviderError) as exc:
            return str(exc)
        return None

    async def _deployable(self, provider: Provider, ref: TargetRef, revision: str) -> None:
        """Refuses a revision the provider would refuse, and a deploy command that is not
        there, before anyone votes on a change that could never run."""
        what = f"the revision for {ref.service}@{ref.environment}"
        problem = await bounded(provider, what, provider.check_revision(ref, revision))
        if problem:
            raise UsageError(f"{provider.name} cannot deploy this revision: {problem}")
        command = self.policy(ref.environment).deploy_command
        missing = command_problem(command) if command else None
        if missing:
            raise UsageError(f"deploy_command of [policy.{ref.environment}]: {missing}")

    def _room(self) -> None:
        """Refuses to start an action the ledger may have no room to record the end of."""
        path = self.session.audit_path
        try:
            free = free_bytes(path)
        except OSError:
            return  # not measurable here; SQLite reports a full disk itself
        if free < MIN_FREE_BYTES:
            raise QuorumError(
                f"only {free // 1024} KiB free beside {path}: an action is not started "
                f"with less than {MIN_FREE_BYTES // 1024} KiB to record it; free some space"
            )

    # -- execution -------------------------------------------------------------------

    async def _execute(
        self,
        kind: Kind,
        ref: TargetRef,
        *,
        revision: str,
        key: str,
        replicas: int | None = None,
        proposal: Proposal | None = None,
        override: bool = False,
        reason: str = "",
    ) -> Outcome:
        """Runs one change on the one path (claim, audit, provider, audit, notify).

        `reason` is a direct change's why (`deploy --reason`), kept in its "started"
        audit record; a proposal's reason is in the proposal itself.
        """
        provider = self._provider(ref, kind)
        refusal = await self.denied(ref, kind)
        if refusal:
            raise PolicyRefused(f"{provider.name} does not allow this {kind.value}: {refusal}")
        if kind is Kind.DEPLOY:
            rules.check_revision(revision)
            await self._deployable(provider, ref, revision)
        self._room()
        label = str(replicas) if kind is Kind.SCALE else revision
        owner = this_process()
        claim = Claim(
            key=key,
            action=kind.value,
            who=self.identity.name,
            ref=ref,
            revision=label,
            proposal_id=proposal.id if proposal else None,
            started_at=self.clock(),
            owner_host=owner.host,
            owner_pid=owner.pid,
            owner_start=owner.start,
        )
        approved: list[Derived] = []

        def still_approved() -> None:
            """Derived again under the claim's lock: only the signed acts decide."""
            assert proposal is not None
            pid, revision, replicas = proposal.id, proposal.revision, proposal.replicas
            derived = self.ledger.require_executable(pid, revision, replicas)
            self._ledger_intact(derived)
            approved.append(derived)

        guard = None
        if proposal is not None:
            # Once before the claim too: it fails fast, and it opens every store and table
            # the check reads, since none may be created under the claim's write lock.
            await self.in_worker(still_approved)
            approved.clear()
            guard = still_approved
        earlier = await self.in_worker(lambda: self.claims.claim(claim, guard))
        if earlier is not None:
            if (earlier.action, earlier.ref, earlier.revision) != (kind.value, ref, label):
                raise PolicyRefused(
                    f"key {key} was used for another action ({earlier.action} "
                    f"{earlier.ref.service}@{earlier.ref.environment} {earlier.revision}); "
                    "a retry must repeat the same action, or use a new key"
                )
            if earlier.incomplete:
                raise ActionIncomplete(earlier)
            return Outcome(key, kind.value, earlier.outcome == FINISHED, earlier.detail, True)
        certificate = (
            await self.in_worker(lambda: self._write_certificate(approved[0])) if approved else None
        )
        context = f"proposal {proposal.id}" if proposal else "direct"
        if reason and proposal is None:
            context += f"; {reason}"
        if override:
            context += " (override)"
        try:
            await self._audit(
                kind.value, ref=ref, revision=label, outcome="started", comment=context, key=key
            )
        except AuditError as exc:
            raise await self._not_started(key, kind, exc) from None
        reported = _Reported(self.on_progress)
        sink = progress_sink.set(reported if self.on_progress else None)
        try:
            detail = await self._call(
                provider, kind, ref, revision, replicas, proposal, override, certificate
            )
            ok = True
        except (ProviderError, DeployCommandError) as exc:
            ok, detail = False, str(exc)
        except Exception as exc:  # a provider bug must still end as a recorded failure
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        finally:
            progress_sink.reset(sink)
        result = FINISHED if ok else FAILED
        warning = await self._record_end(key, kind, ref, label, result, detail)
        what = proposal.describe() if proposal else f"{kind.value} {ref.service}@{ref.environment}"
        if reported.any:  # the bar that was shown ends, full, with the outcome
            reported(f"{what}: {result}", 1, 1)
        await self._notify(
            f"{what}: {result}",
            f"{self.identity.name}: {detail}" + (f" ({warning})" if warning else ""),
            severity="info" if ok and kind is not Kind.ROLLBACK and not warning else "warning",
            key=key,
        )
        return Outcome(key, kind.value, ok, detail, warning=warning)

    async def _not_started(self, key: str, kind: Kind, exc: AuditError) -> QuorumError:
        """The "started" record failed, so nothing ran: the claim is released, or, when even
        that fails, the error says it stays listed although the action never started."""
        try:
            await self.in_worker(lambda: self.claims.release(key))
        except sqlite3.Error as again:
            return QuorumError(
                f"{kind.value} not started: {exc}; its claim {key} could not be released "
                f"either ({again}) and stays listed as incomplete although nothing ran: "
                f"resolve it with `quorum actions resolve {key} --outcome failed`"
            )
        return QuorumError(f"{kind.value} not started: {exc}")

    async def _record_end(
        self, key: str, kind: Kind, ref: TargetRef, label: str, result: str, detail: str
    ) -> str:
        """Records how the action ended, in the claim and in the audit log; "" when both
        took it, else what was not recorded and where the outcome is kept instead."""
        claimed: Exception | None = None
        finished_at = self.clock()
        try:
            await self.in_worker(lambda: self.claims.finish(key, result, detail, finished_at))
        except (sqlite3.Error, UsageError) as exc:  # a full disk; or resolved (--force)
            claimed = exc
        try:
            await self._audit(
                kind.value, ref=ref, revision=label, outcome=result, comment=detail, key=key
            )
        except AuditError as exc:
            if claimed is None:
                return (
                    f"the audit log could not record that it {result} ({exc}); "
                    f"the outcome is kept in the action's claim ({key})"
                )
            return (
                f"neither the audit log nor the claim could record that it {result} ({exc}); "
                f"{key} stays listed as incomplete: once there is room, record it with "
                f"`quorum actions resolve {key} --outcome {result}`"
            )
        if isinstance(claimed, UsageError):
            return f"it {result}, but someone resolved it by hand while it ran ({claimed})"
        if claimed is not None:
            return (
                f"the action's claim could not record that it {result} ({claimed}); the audit "
                f"log has it: record it with `quorum actions resolve {key} --outcome {result}`"
            )
        return ""

    async def _call(
        self,
        provider: Provider,
        kind: Kind,
        ref: TargetRef,
        revision: str,
        replicas: int | None,
        proposal: Proposal | None,
        override: bool,
        certificate: Path | None,
    ) -> str:
        command = self.policy(ref.environment).deploy_command
        if kind is Kind.DEPLOY and command:
            env = consensus_environment(
                proposal_id=proposal.id if proposal else None,
                service=ref.service,
                environment=ref.environment,
                revision=revision,
                override=override,
                certificate=certificate,
            )
            code = await run_deploy_command(command, env, self.on_output)
            if code != 0:
                raise DeployCommandError(f"deploy command exited with status {code}")
            return f"deploy command finished (exit 0) for {revision}"
        return await CHANGES[kind].call(provider, ref, revision, replicas)


def still_running(record: Claim) -> bool:
    """Whether the process that started the action is known to run still (on this host)."""
    if record.owner_pid is None:
        return False
    return alive(Owner(record.owner_host, record.owner_pid, record.owner_start)) is True


def _refuse_if_running(record: Claim) -> None:
    if record.owner_pid is None:
        return  # recorded before owners were: nothing to check
    owner = Owner(record.owner_host, record.owner_pid, record.owner_start)
    running = alive(owner)
    if running is False:
        return
    state = "is still running" if running else "ran on another host and may still run"
    raise PolicyRefused(
        f"action {record.key} {state} ({owner.describe()}, started "
        f"{record.started_at:%Y-%m-%d %H:%M:%S}Z); wait for it, or check the target "
        "and the process yourself and resolve with --force"
    )


def _new_key(kind: Kind) -> str:
    return f"{kind.value}-{uuid.uuid4().hex[:12]}"


def _user_key(key: str | None, kind: Kind) -> str:
    """A key the user chose, outside the namespace of proposals' keys, or a new one."""
    if key is None:
        return _new_key(kind)
    if not key.strip():
        raise UsageError("--key must not be empty")
    if key.startswith(RESERVED_KEY_PREFIX):
        raise UsageError(
            f"keys beginning with {RESERVED_KEY_PREFIX!r} belong to Quorum's proposals; "
            "choose another --key"
        )
    return key


class _Reported:
    """The caller's progress sink, noting whether the provider reported anything, so
    a bar that was shown is closed when the action ends and none appears otherwise."""

    def __init__(self, sink: Progress | None) -> None:
        self.sink = sink
        self.any = False

    def __call__(self, what: str, done: int, total: int) -> None:
        if self.sink is not None:
            self.any = True
            self.sink(what, done, total)
