"""A vote in Quorum on a provider's own approval (a GitHub pending deployment, a
GitLab deployment approval), sent to that provider as the voter's own review.

Ids have the form `PROVIDER:REFERENCE` (`ci:4242/production`, `gitlab:57`), as
`quorum approvals` lists them. The provider answers with the credentials of the
process, that is the voter's own token.

Without `forward_after_quorum` in the environment's policy, each vote is sent at
once. With it, votes are recorded in Quorum's ledger (`console.store.gates`, or
`console.store.postgres.gates` on the team's PostgreSQL ledger) and tallied by the
proposals' rules; nothing is sent until the quorum is reached,
then one approval goes out, or, once the rejections block, the rejection. Every
vote and every answer, with the provider's response, is in the audit log.

Held votes are signed by their voters like every act on a proposal, and every tally
(the one that decides what to send, and `quorum approvals`') counts only those that
verify, by current members: a vote inserted in the shared file by hand sends nothing.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from console.domain import gates
from console.domain.acts import GateVoteAct
from console.domain.consensus import Tally, Vote
from console.domain.derive import Signed
from console.domain.errors import PolicyRefused, QuorumError, UsageError
from console.domain.identity import require_member
from console.domain.model import ProviderApproval, TargetRef
from console.domain.settings import Policy
from console.engine.actions import Actions
from console.engine.guard import refuse_if_readonly
from console.engine.reads import bounded
from console.notify.sinks import Notice, send_all
from console.rotation.schedule import holder_at
from console.store.backends import gate_store, rotation_source
from providers.base import Capability, Provider, ProviderError


def is_provider_approval(text: str) -> bool:
    """Whether a `quorum vote` id names a provider approval rather than a proposal."""
    return ":" in text


@dataclass(frozen=True)
class GateVote:
    """What one vote on a provider approval did."""

    approval: ProviderApproval
    voter: str
    approve: bool
    sent: str | None  # "approved" / "rejected" when an answer went to the provider now
    response: str  # the provider's answer, or why sending failed
    ok: bool
    tally: Tally | None = None  # with forward_after_quorum: the votes so far

    def describe(self) -> str:
        verdict = "approve" if self.approve else "reject"
        head = f"{self.approval.id}: {self.voter} votes {verdict}"
        if self.tally is not None:
            head += f" ({self.tally.summary()})"
        if self.sent is None:
            return head + (f"; {self.response}" if self.response else "; held until the quorum")
        state = "sent" if self.ok else "NOT sent"
        return f"{head}; {self.sent} {state}: {self.response}"

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.approval.id,
            "provider": self.approval.provider,
            "environment": self.approval.environment,
            "voter": self.voter,
            "vote": "approve" if self.approve else "reject",
            "sent": self.sent,
            "ok": self.ok,
            "response": self.response,
            "approvals": list(self.tally.approvals) if self.tally else None,
            "rejections": list(self.tally.rejections) if self.tally else None,
            "needed": self.tally.needed if self.tally else None,
        }


@dataclass(frozen=True)
class GateTally:
    """Quorum's count on a held gate, and the stored votes that do not count, with why."""

    tally: Tally
    not_counted: tuple[tuple[str, str], ...] = ()  # (voter, why)


class AnswerFailed(QuorumError):
    """The provider refused or could not take the answer (recorded in the audit log)."""

    def __init__(self, result: GateVote) -> None:
        self.result = result
        super().__init__(result.describe())


async def vote_on_provider_approval(
    actions: Actions, approval_id: str, approve: bool, comment: str = ""
) -> GateVote:
    """The engine function both front ends call for a vote on a provider approval.

    Raises UsageError for an unknown id, PolicyRefused when the console or the
    provider is read-only or the voter is not a member, and AnswerFailed (after
    auditing it) when the provider did not take the answer.
    """
    refuse_if_readonly(actions.session.readonly, "vote")
    require_member(actions.config, actions.identity, "vote")
    provider, reference = _provider_of(actions, approval_id)
    approval = await _find(provider, approval_id)
    policy = actions.policy(approval.environment)
    if not policy.forward_after_quorum:
        result = await _send(actions, provider, approval, reference, approve, comment, approve)
    else:
        result = await _hold_or_send(actions, provider, approval, reference, approve, comment)
    if result.sent is not None and not result.ok:
        raise AnswerFailed(result)
    return result


async def fetch_gate_tallies(
    actions: Actions, approvals: list[ProviderApproval]
) -> dict[str, GateTally]:
    """Quorum's tally of each approval held until the quorum (`forward_after_quorum`), by
    id; approvals whose votes go out at once have none. Read in a worker thread."""
    held = [a for a in approvals if actions.policy(a.environment).forward_after_quorum]
    if not held:
        return {}
    now = actions.clock()

    def read() -> dict[str, GateTally]:
        with gate_store(actions.config, actions.session.audit_path) as store:
            tallies = {}
            for approval in held:
                policy = actions.policy(approval.environment)
                stored = store.votes(approval.id, approval.environment)
                holder = _holder(actions, policy, now)
                votes, ignored = _counted(actions, stored, now)
                tallies[approval.id] = GateTally(
                    gates.tally(approval.id, votes, policy, now, holder),
                    tuple((signed.act.voter, why) for signed, why in ignored),
                )
            return tallies

    return await actions.in_worker(read)


def _counted(
    actions: Actions, stored: tuple[Signed[GateVoteAct], ...], now: datetime
) -> tuple[tuple[Vote, ...], tuple[tuple[Signed[GateVoteAct], str], ...]]:
    """The stored votes that prove their author (signed where the team has keys, by
    current members, as for proposals), and the others with why."""
    signers = actions.config.signers
    members = frozenset(actions.config.members) if actions.config.members else None
    verify = None if signers is None else signers.valid
    return gates.counted(stored, now, verify=verify, members=members)


def _tally(
    actions: Actions,
    approval: ProviderApproval,
    stored: tuple[Signed[GateVoteAct], ...],
    policy: Policy,
    now: datetime,
    holder: str | None,
) -> Tally:
    return gates.tally(approval.id, _counted(actions, stored, now)[0], policy, now, holder)


def _provider_of(actions: Actions, approval_id: str) -> tuple[Provider, str]:
    name, _, reference = approval_id.partition(":")
    provider = actions.session.providers.get(name)
    if provider is None or not reference:
        raise UsageError(
            f"{approval_id!r} names no configured provider approval "
            "(ids look like PROVIDER:REFERENCE, as `quorum approvals` lists them)"
        )
    if not provider.can(Capability.ANSWER):
        if provider.readonly and provider.capabilities & Capability.ANSWER:
            raise PolicyRefused(f"provider {provider.name} is read-only: cannot answer approvals")
        raise UsageError(f"provider {provider.name} ({provider.kind}) has no approvals to answer")
    return provider, reference


async def _find(provider: Provider, approval_id: str) -> ProviderApproval:
    """The approval as the provider lists it now; `ci:4242` matches `ci:4242/production`."""
    waiting = await bounded(provider, "approvals", provider.approvals())
    for approval in waiting:
        if approval.id == approval_id or approval.id.startswith(approval_id + "/"):
            return approval
    raise UsageError(
        f"{approval_id} is not waiting in provider {provider.name} (answered already?)"
    )


def _holder(actions: Actions, policy: Policy, now: datetime) -> str | None:
    rotation = policy.require_rotation_approval
    if not rotation:
        return None
    source = rotation_source(actions.config, actions.session.audit_path)
    return holder_at(actions.config, rotation, now, source)


def _ref(approval: ProviderApproval) -> TargetRef:
    return TargetRef(approval.provider, approval.service or "-", approval.environment, approval.id)


async def _audit(
    actions: Actions, action: str, approval: ProviderApproval, outcome: str, comment: str
) -> None:
    await actions.in_worker(
        lambda: actions.record(
            action,
            target=_ref(approval).key,
            environment=approval.environment,
            revision=approval.id,
            outcome=outcome,
            comment=comment,
            key=f"gate:{approval.id}",
        )
    )


async def _send(
    actions: Actions,
    provider: Provider,
    approval: ProviderApproval,
    reference: str,
    approve: bool,
    comment: str,
    vote: bool,
    tally: Tally | None = None,
) -> GateVote:
    """Sends one answer with this process's token; audits it with the provider's response."""
    state = gates.APPROVED if approve else gates.REJECTED
    try:
        response = await provider.answer(reference, approve, comment)
        ok = True
    except ProviderError as exc:
        response, ok = str(exc), False
    action = "provider-vote" if tally is None else "provider-answer"
    said = f"{state}" + (f" ({comment})" if comment else "")
    await _audit(actions, action, approval, "finished" if ok else "failed", f"{said}: {response}")
    result = GateVote(approval, actions.identity.name, vote, state, response, ok, tally)
    await _notify(actions, result)
    return result


async def _hold_or_send(
    actions: Actions,
    provider: Provider,
    approval: ProviderApproval,
    reference: str,
    approve: bool,
    comment: str,
) -> GateVote:
    policy = actions.policy(approval.environment)
    now = actions.clock()
    holder = await actions.in_worker(lambda: _holder(actions, policy, now))
    ballot = gates.ballot(
        approval.id, approval.environment, actions.identity.name, approve, now, comment
    )
    signer = actions.signer
    signed = Signed(ballot)
    if signer is not None:  # through the voter's ssh-agent, before anything is written
        signed = Signed(ballot, await actions.in_worker(lambda: signer.sign(ballot.message())))

    def decide(stored: tuple[Signed[GateVoteAct], ...]) -> str | None:
        return gates.decision(_tally(actions, approval, stored, policy, now, holder))

    store = await actions.in_worker(lambda: gate_store(actions.config, actions.session.audit_path))
    try:
        cast = await actions.in_worker(lambda: store.cast(signed, decide))
        result = _tally(actions, approval, cast.votes, policy, now, holder)
        verdict = "approve" if approve else "reject"
        said = verdict + (f": {comment}" if comment else "")
        await _audit(actions, "gate-vote", approval, "recorded", f"{said}; {result.summary()}")
        if cast.claimed is None:
            note = ""
            if cast.answer is not None:
                note = f"{cast.answer.decision} is being sent by {cast.answer.by}"
            return GateVote(approval, actions.identity.name, approve, None, note, True, result)
        counted, _ = _counted(actions, cast.votes, now)
        text = gates.answer_comment(result, counted, cast.claimed)
        sent = await _send(
            actions, provider, approval, reference, cast.claimed == gates.APPROVED, text,
            approve, result,
        )  # fmt: skip
        await actions.in_worker(
            lambda: store.finish(approval.id, sent=sent.ok, detail=sent.response)
        )
        return sent
    finally:
        store.close()


async def _notify(actions: Actions, result: GateVote) -> None:
    if not actions.config.notify:
        return
    notice = Notice(
        title=f"{result.approval.id}: {result.sent} {'sent' if result.ok else 'failed'}",
        text=f"{result.voter}: {result.response}",
        severity="info" if result.ok else "warning",
        fields={"approval": result.approval.id},
    )
    with contextlib.suppress(Exception):  # a sink never undoes an answer
        await send_all(
            actions.config.notify, notice, audit=actions.audit, who=actions.identity.name
        )
