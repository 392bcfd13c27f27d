"""What waits for people: one read for `quorum approvals` and the console's Approvals pane.

Open proposals with their votes, the approvals providers hold themselves (GitHub
environments, GitLab deployments), overrides awaiting review and actions that never
finished, gathered at once: the providers are asked (bounded, `console.engine.reads`)
while the ledger is read in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from console.domain.consensus import FINAL
from console.domain.model import ProviderApproval
from console.engine import reads
from console.engine.actions import Actions, ProposalView
from console.store.claims import Claim


@dataclass(frozen=True)
class Waiting:
    proposals: list[ProposalView]
    provider_approvals: list[ProviderApproval]
    awaiting_review: list[ProposalView]
    incomplete: list[Claim]
    provider_errors: list[str]  # one line per provider that could not be asked
    settled: list[ProposalView] = field(default_factory=list)  # with `settled_since`


async def what_waits(actions: Actions, *, settled_since: datetime | None = None) -> Waiting:
    """Everything waiting for a person now; with `settled_since`, also the proposals that
    ran, failed or were withdrawn since then (so an outcome stays where it was voted)."""

    async def settled() -> list[ProposalView]:
        if settled_since is None:
            return []
        return await actions.fetch_settled_since(settled_since)

    asked, proposals, review, incomplete, done = await asyncio.gather(
        reads.approvals(actions.session),
        actions.fetch_open(),
        actions.fetch_awaiting_review(),
        actions.fetch_incomplete(),
        settled(),
    )
    return Waiting(proposals, asked.items, review, incomplete, asked.errors, done)


def waits_for_someone(item: ProposalView | ProviderApproval) -> bool:
    """Whether a person still has something to do here: a vote on an open or blocked
    proposal (or one on its way to running), a review of an override, or an approval a
    provider holds. The rest has settled: it ran, failed, expired or was withdrawn."""
    if isinstance(item, ProviderApproval):
        return True
    return item.state not in FINAL or item.proposal.awaiting_review


Item = TypeVar("Item", bound=ProposalView | ProviderApproval)


def people_first(items: Iterable[Item]) -> list[Item]:
    """The order in which people read what waits: everything that waits for someone
    first, newest first, so at 3 a.m. it is above the fold; then what settled, newest
    first. The console's Approvals pane shows this order as it is (proposals and a
    provider's own approvals together), and `quorum approvals` prints each of its
    sections in it."""

    def when(item: Item) -> tuple[float, int]:
        if isinstance(item, ProviderApproval):
            return (item.requested_at.timestamp() if item.requested_at else 0.0, 0)
        return (item.proposal.created_at.timestamp(), item.id)

    newest_first = sorted(items, key=when, reverse=True)
    return sorted(newest_first, key=lambda item: not waits_for_someone(item))  # stable
