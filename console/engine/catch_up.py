"""A session's catch-up: what must happen before anyone acts on the ledger's state.

Two things may be owed when a command line or a console starts, and again while a
console stays open: approved proposals whose execution never started (the process
that approved one died before running it), and, in the sandbox, the simulated
teammates' votes. A third is only shown: actions that started and never finished,
which no process may run again until someone records their outcome. The first two
can execute changes, so only a session that may change things catches up: the
console (unless read-only) and the command line's mutating commands; `approvals`,
`status`, `audit` and the other reading commands never do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from console.domain.errors import PolicyRefused
from console.engine.actions import Actions, Outcome
from console.engine.presentation import describe_outcome
from console.engine.sandbox_teammates import TeammateVote, sandbox_teammates_vote
from console.store.claims import Claim


@dataclass(frozen=True)
class CaughtUp:
    """What one catch-up did: the votes cast and the stranded proposals it ran."""

    votes: list[TeammateVote] = field(default_factory=list)
    ran: list[Outcome | PolicyRefused] = field(default_factory=list)  # or why it did not
    incomplete: list[Claim] = field(default_factory=list)  # to show, never to run
    who: str = ""  # who ran them

    def lines(self) -> list[str]:
        """One line per thing done, for a terminal or the console's notices (not inert yet);
        the incomplete actions are the front end's to show its own way."""
        return [f"sandbox: {vote.describe()}" for vote in self.votes] + [
            f"an approved proposal was not run: {outcome}"
            if isinstance(outcome, PolicyRefused)
            else f"approved earlier, ran now as {self.who}: {describe_outcome(outcome)}"
            for outcome in self.ran
        ]


async def catch_up(actions: Actions, now: datetime | None = None) -> CaughtUp:
    """Lets the sandbox's teammates vote, runs approved proposals left unexecuted, and
    lists the actions that never finished.

    Nothing runs in a read-only session. Safe to call repeatedly and from several
    processes at once: each execution is claimed first, so it runs once.
    """
    if actions.session.readonly:
        return CaughtUp(incomplete=await actions.fetch_incomplete())
    votes = await sandbox_teammates_vote(actions, now or actions.clock())
    ran = await actions.run_approved()
    incomplete = await actions.fetch_incomplete()
    return CaughtUp(votes, ran, incomplete, who=actions.identity.name)
