"""The sandbox's simulated teammates, so one person alone sees consensus form.

Only a config that declares `simulated_teammates` (the built-in sandbox; the config
loader has no key for it, so never a real team) has them. Each teammate looks at
every open proposal some seconds after it was opened and votes by a fixed stance;
what they do depends only on the proposal and the time, so every console and
command sharing the sandbox's data directory sees the same story. They vote in a
session's catch-up (`console.engine.catch_up`): the console's, every second or two,
and each mutating command's, before it runs. A vote may complete a quorum and so
execute a change, which is why read-only commands never let them vote. They vote
only on proposals for the sandbox's own simulated providers, and their votes count
only where they are members (never in a real team's config, never where votes are
signed). `QUORUM_SANDBOX_TEAMMATES=off` keeps them quiet (scripted demos, tests).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from console.domain.consensus import VOTABLE, Proposal
from console.domain.errors import PolicyRefused
from console.domain.settings import SimulatedTeammate
from console.engine.actions import Actions, Result

QUIET_VAR = "QUORUM_SANDBOX_TEAMMATES"


@dataclass(frozen=True)
class TeammateVote:
    """One vote a simulated teammate cast, and what it led to."""

    teammate: str
    proposal_id: int
    approve: bool
    result: Result

    def describe(self) -> str:
        verb = "approved" if self.approve else "rejected"
        line = f"{self.teammate} {verb} proposal {self.proposal_id}"
        outcome = self.result.outcome
        if outcome is not None:
            line += f"; it ran: {'finished' if outcome.ok else 'failed'} ({outcome.detail})"
        return line


def stance_on(mate: SimulatedTeammate, proposal: Proposal) -> bool | None:
    """True to approve, False to reject, None to abstain; fixed per (teammate, proposal)."""
    if mate.stance == "approve":
        return True
    if mate.stance == "reject":
        return False
    return False if proposal.id % 3 == 0 else None


def _simulated(actions: Actions, proposal: Proposal) -> bool:
    """Whether the proposal changes the simulated world; teammates vote on nothing else."""
    provider = actions.session.providers.get(proposal.ref.provider)
    return provider is not None and provider.kind == "sandbox"


def _has_voted(mate: SimulatedTeammate, proposal: Proposal) -> bool:
    return any(v.voter == mate.name and v.revision == proposal.revision for v in proposal.votes)


async def sandbox_teammates_vote(actions: Actions, now: datetime) -> list[TeammateVote]:
    """Lets every simulated teammate whose moment has come vote; returns the votes cast."""
    mates = actions.config.simulated_teammates
    if not mates or os.environ.get(QUIET_VAR, "").lower() in ("off", "0", "false"):
        return []
    cast: list[TeammateVote] = []
    for view in await actions.fetch_open():
        if not _simulated(actions, view.proposal):
            continue  # a real proposal in a data directory shared with a real team
        for mate in sorted(mates, key=lambda m: m.delay):
            listed = view.proposal  # who proposed it and when never change: no read needed
            if mate.name == listed.proposer or now < listed.created_at + mate.delay:
                continue
            proposal = (await actions.fetch_proposal(view.id)).proposal
            if proposal.state not in VOTABLE:
                break
            if mate.name == proposal.proposer or _has_voted(mate, proposal):
                continue
            if now < proposal.created_at + mate.delay:
                continue
            approve = stance_on(mate, proposal)
            if approve is None:
                continue
            comment = "simulated teammate" + ("" if approve else ": not convinced yet")
            try:
                result = await actions.vote_as_teammate(mate.name, view.id, approve, comment)
            except PolicyRefused:
                continue  # the proposal moved on (expired, withdrawn) between read and vote
            cast.append(TeammateVote(mate.name, view.id, approve, result))
    return cast
