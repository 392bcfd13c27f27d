"""Domain values → the view objects the widgets render, each mapped in one place.

Widgets import only console.domain, so everything they show that the engine knows
(a provider's state, a proposal's tally, a provider's own approvals) is turned into
their view objects here. Thresholds are applied here once per target: the health
and the level of each metric travel in the view, and no widget classifies again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from console.domain.alerts import Alert, firing, is_critical
from console.domain.canary import judge
from console.domain.model import Health, ProviderApproval, Revision, Target
from console.domain.settings import Config
from console.domain.sites import fold_sites
from console.engine.hub import ProviderState
from widgets.base.chrome import ProviderLine
from widgets.panes.services import ServiceView

if TYPE_CHECKING:
    # After the first frame, like the Approvals pane they fill.
    from console.engine.actions import ProposalView
    from console.engine.catch_up import CaughtUp
    from console.store.claims import Claim
    from console.store.rotation import Swap
    from widgets.panes.approvals import ApprovalView
    from widgets.panes.audit import Record

_WORST = (Health.UNKNOWN, Health.OK, Health.WARNING, Health.CRITICAL)


def firing_alerts(states: Iterable[ProviderState]) -> list[Alert]:
    """Every alert that fires now (not silenced, not inhibited), most severe first, from
    the alert providers' last good snapshots."""
    return firing(a for s in states if s.snapshot is not None for a in s.snapshot.alerts)


def service_views(
    states: Iterable[ProviderState], config: Config, alerts: Sequence[Alert] = ()
) -> list[ServiceView]:
    """Every target the providers' last good snapshots hold, stale ones marked; the
    alerts naming a target's service (and environment) raise its health and are named
    on its row. The platforms behind a front (console.domain.sites) show as the front's
    one site row, not each on its own."""
    targets: list[Target] = []
    stale: dict[str, bool] = {}
    for state in states:
        if state.snapshot is None:
            continue
        for target in state.snapshot.targets:
            targets.append(target)
            stale[target.ref.key] = state.stale
    views = []
    for target, site in fold_sites(targets):
        if site is None:
            views.append(_view(target, stale[target.ref.key], config, alerts))
            continue
        is_stale = any(stale[k] for k in site.keys)
        views.append(_view(target, is_stale, config, alerts, site.providers, site.serving))
    return views


def _view(
    target: Target,
    stale: bool,
    config: Config,
    alerts: Sequence[Alert],
    platforms: tuple[str, ...] = (),
    live: str = "",
) -> ServiceView:
    thresholds = config.thresholds_for(target.ref.service)
    levels = {name: thresholds.classify(name, v) for name, v in target.metrics.items()}
    on = [a for a in alerts if a.names(target.ref.service, target.ref.environment)]
    found = [Health.CRITICAL if is_critical(a) else Health.WARNING for a in on]
    health = max([*levels.values(), *found], key=_WORST.index, default=Health.UNKNOWN)
    names = tuple(dict.fromkeys(a.name for a in on))
    verdict = judge(target.canary, thresholds) if target.canary is not None else None
    return ServiceView(
        target,
        health,
        stale,
        levels,
        names,
        platforms,
        live,
        canary=verdict.line() if verdict else "",
        verdict=str(verdict.verdict) if verdict else "",
    )


def provider_lines(states: Iterable[ProviderState]) -> list[ProviderLine]:
    """One status line per provider: broken, stale (with its error), waiting or ok."""
    lines = []
    for state in states:
        if state.broken:
            kind = "broken"
        elif state.error is not None:
            kind = "stale"
        elif state.snapshot is None:
            kind = "waiting"
        else:
            kind = "ok"
        lines.append(ProviderLine(state.name, state.kind, kind, state.error or "", state.last_ok))
    return lines


def proposal_key(pid: int) -> str:
    """The Approvals row key of proposal `pid`."""
    return f"proposal-{pid}"


def waiting_view(item: ProposalView | ProviderApproval) -> ApprovalView:
    """A proposal or a provider's own approval as its Approvals row; what waits for no
    one (console.engine.waiting.waits_for_someone) is marked settled, so it is dimmed."""
    if isinstance(item, ProviderApproval):
        return provider_approval_view(item)
    return approval_view(item)


def approval_view(view: ProposalView) -> ApprovalView:
    """A proposal as the Approvals pane shows it: votes, what it needs, overrides."""
    from console.engine.presentation import override_note
    from console.engine.waiting import waits_for_someone
    from widgets.panes.approvals import ApprovalView, VoteView

    p = view.proposal
    counted = set(view.tally.approvals) | set(view.tally.rejections)
    notes = []
    if p.reason:
        notes.append(f"reason: {p.reason}")
    if p.overridden:
        notes.append(f"⚑ {override_note(p)}" + (" (R)" if p.awaiting_review else ""))
    if p.detail:
        notes.append(p.detail)
    return ApprovalView(
        key=proposal_key(p.id),
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
        version=p.version,
        awaiting_review=p.awaiting_review,
        settled=not waits_for_someone(view),
    )


def opened_line(view: ProposalView) -> str:
    """A proposal just opened from the console, and what happens next in the console's
    own keys: its proposer is pointed to their own approval only where the policy
    allows self-approval."""
    p = view.proposal
    then = (
        "approve it with :apr then a"
        if view.policy.allow_self_approval
        else "your teammates vote on it (:apr shows it)"
    )
    return f"opened proposal {p.id}, {p.describe()}: {view.summary}; {then}"


def waiting_for(name: str, proposals: Iterable[ProposalView]) -> str:
    """One line for the proposals that wait for `name`'s vote (open or blocked, not
    theirs, not voted on yet), with the console keys to vote; "" when none do."""
    from console.domain.consensus import VOTABLE

    waiting = [
        v
        for v in proposals
        if v.state in VOTABLE
        and v.proposal.proposer != name
        and not any(vote.voter == name for vote in v.proposal.votes)
    ]
    if not waiting:
        return ""
    if len(waiting) == 1:
        p = waiting[0].proposal
        return f"proposal {p.id} waits for your vote: {p.describe()} — :apr then a or x"
    return f"{len(waiting)} proposals wait for your vote — :apr then a or x"


def caught_up_notices(done: CaughtUp) -> list[tuple[str, str, bool]]:
    """What a catch-up did as notices (title, line, error): each titled by what
    happened, a teammate's vote or the change it ran."""
    said = []
    for vote, line in zip(done.votes, done.lines(), strict=False):
        ran = vote.result.outcome
        title = "vote" if ran is None else f"{ran.action} {'finished' if ran.ok else 'failed'}"
        said.append((title, line, ran is not None and not ran.ok))
    for outcome, line in zip(done.ran, done.lines()[len(done.votes) :], strict=True):
        if isinstance(outcome, Exception):
            said.append(("not run", line, True))
        else:
            state = "finished" if outcome.ok else "failed"
            said.append((f"{outcome.action} {state}", line, not outcome.ok))
    return said


def caught_up_summary(done: CaughtUp) -> str:
    """Several catch-up notices as one line (each stays in :messages)."""
    parts = []
    if done.votes:
        parts.append(f"teammates cast {len(done.votes)} vote{'s' if len(done.votes) > 1 else ''}")
    ran = len(done.ran) + sum(1 for v in done.votes if v.result.outcome is not None)
    if ran:
        parts.append(f"{ran} approved change{'s' if ran > 1 else ''} ran")
    return "; ".join(parts) + " — :messages lists each, :apr shows them"


def provider_approval_view(approval: ProviderApproval) -> ApprovalView:
    """An approval a backend holds itself (a GitHub pending deployment...): shown
    beside the proposals, answered in that backend."""
    from widgets.panes.approvals import ApprovalView

    notes = [f"held by {approval.provider}: a vote here is sent there as your own review"]
    if approval.url:
        notes.append(approval.url)
    return ApprovalView(
        key=f"provider-{approval.id}",
        what=f"{approval.title} ({approval.environment})"
        if approval.environment
        else approval.title,
        proposer=approval.provider,
        state="pending",
        summary=f"waiting in {approval.provider}",
        created_at=approval.requested_at,
        notes=tuple(notes),
        provider=approval.provider,
        approval_id=approval.id,
    )


def revision_options(revisions: Iterable[Revision]) -> list[tuple[str, str]]:
    """A target's history as the revision picker lists it."""
    return [
        (
            r.id,
            f"{r.id}{'  (current)' if r.current else ''}"
            + (f"  {r.created_at:%Y-%m-%d %H:%M}" if r.created_at else "")
            + (f"  {r.description}" if r.description else ""),
        )
        for r in revisions
    ]


def audit_fields(record: Record) -> list[tuple[str, str]]:
    """Every field of an audit record, labelled, as the record dialog shows it. An
    override's comment is its reason, and is labelled so."""
    from console.domain.instants import iso_utc

    return [
        ("seq", str(record.seq)),
        ("time", (isinstance(record.ts, datetime) and iso_utc(record.ts)) or str(record.ts)),
        ("who", record.who),
        ("action", record.action),
        ("target", record.target),
        ("environment", record.environment),
        ("revision", record.revision),
        ("outcome", record.outcome),
        ("reason" if "override" in record.action else "comment", record.comment),
        ("key", record.key),
        ("previous hash", record.prev_hash),
        ("hash", record.hash),
    ]


def incomplete_options(records: Iterable[Claim]) -> list[tuple[str, str]]:
    """Actions a crash left between started and finished, as the picker lists them."""
    return [
        (
            r.key,
            f"{r.action} {r.ref.service}@{r.ref.environment} {r.revision} by {r.who}, "
            f"started {r.started_at:%Y-%m-%d %H:%M:%S}Z",
        )
        for r in records
    ]


def swap_options(swaps: Iterable[Swap]) -> list[tuple[str, str]]:
    """Open swaps as the `t` picker lists them."""
    return [
        (
            s.id,
            f"{s.rotation}: {s.requested_by} offers {s.starts_at:%b %d %H:%M}"
            f" to {s.ends_at:%b %d %H:%M}" + (f" ({s.reason})" if s.reason else ""),
        )
        for s in swaps
    ]


def unread_because(exc: BaseException) -> str:
    """What a ledger pane with no rows says when its read failed: the server's refusal
    in its one line, or that the ledger is out of reach; an empty table alone would say
    there is nothing there (no rotation configured, no proposal waiting), which is
    not what happened."""
    from console.store.postgres.connect import LedgerUnreachable, first_line

    if isinstance(exc, LedgerUnreachable):
        return "not read: the ledger is out of reach"
    return f"not read: {first_line(exc)}"
