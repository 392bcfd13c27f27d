"""Proposals as their signed acts make them: the one place that reads and writes consensus.

Every read derives the state again (`console.domain.derive`) from the acts whose
signatures verify against the team's allowed signers, by current members only; the
`proposals` table is a cache kept for listings and never believed. Every write
derives the state under SQLite's write lock, checks the new act by the same rules,
signs it through the acting member's ssh-agent and appends it, so two consoles
that vote at once are serialised and neither vote is lost.

Without keys in the config, acts are stored unsigned and count as they are (the
members still checked): Quorum works as before, and `config check` and the
console say that votes are unsigned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from console.domain.acts import ProposalAct
from console.domain.consensus import FINAL, Proposal, State, same_change
from console.domain.derive import (
    Act,
    Derived,
    Facts,
    Signed,
    apply_act,
    derive,
    message_for,
)
from console.domain.errors import PolicyRefused
from console.domain.settings import Config, Policy
from console.rotation.schedule import holder_at
from console.signing.signer import Signer
from console.store.acts import ActStore
from console.store.claims import FINISHED, ClaimStore
from console.store.proposals import ProposalStore


def proposal_key(pid: int) -> str:
    """The idempotency key of a proposal's execution, shared by all its audit records.

    Users cannot choose keys in this namespace (`console.engine.actions` refuses them).
    """
    return f"proposal-{pid}"


def signing_status(config: Config) -> str:
    """What the team's votes prove, in one line, for `config check` and the console."""
    if config.signers is None:
        return (
            "votes are unsigned: [team] allowed_signers is not set, so anyone who can write "
            "the shared file can add votes or change a proposal's state; set it to sign "
            "every act with the members' SSH keys"
        )
    keyless = sorted(m for m in config.members if not config.signers.keys_for(m))
    line = f"votes are signed: {len(config.signers.entries)} keys in {config.signers.source}"
    if keyless:
        line += f"; no key for {', '.join(keyless)}: their acts will not count"
    return line


def signing_badge(config: Config) -> str:
    """The few words the console's status line keeps in sight (it is cut at 80 columns
    before anything else on it); `quorum config check` says what they mean."""
    if config.signers is None:
        return "votes unsigned"
    keyless = sum(1 for m in config.members if not config.signers.keys_for(m))
    if keyless:
        return f"votes signed, {keyless} member{'s' if keyless != 1 else ''} keyless"
    return "votes signed"


class AlreadyPending(PolicyRefused):
    """The change asked for is already proposed and still pending (`derived`)."""

    def __init__(self, derived: Derived) -> None:
        self.derived = derived
        super().__init__(f"proposal {derived.proposal.id} already proposes this change")


class Ledger:
    def __init__(
        self,
        config: Config,
        path: Path,
        claims: ClaimStore,
        *,
        signer: Signer | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.path = path
        self.claims = claims
        self.signer = signer
        self.clock = clock
        self.store = ProposalStore(path)
        self.acts = ActStore(self.store)
        self.members = frozenset(config.members) if config.members else None
        signers = config.signers
        self.verify = None if signers is None else lru_cache(maxsize=65536)(signers.valid)

    @property
    def signed(self) -> bool:
        return self.config.signers is not None

    def close(self) -> None:
        self.store.close()

    # -- reading -----------------------------------------------------------------------

    def policy(self, environment: str) -> Policy:
        return self.config.policy(environment)

    def holder(self, policy: Policy, proposal_created: datetime) -> str | None:
        """Who must approve under `require_rotation_approval`: the holder when the
        proposal was made. A later handoff or rotation override does not change it, so
        an override cannot turn an approval already given into the holder's."""
        if not policy.require_rotation_approval:
            return None
        rotation = policy.require_rotation_approval
        return holder_at(self.config, rotation, proposal_created, self.path, as_known=True)

    def _outcome(self, pid: int) -> tuple[bool, str] | None:
        claim = self.claims.get(proposal_key(pid))
        if claim is None or claim.incomplete:
            return None
        return claim.outcome == FINISHED, claim.detail

    def _derive(self, facts: Facts, now: datetime | None = None) -> Derived:
        base = facts.proposal.act
        policy = self.policy(base.content.ref.environment)
        return derive(
            facts,
            policy,
            now or self.clock(),
            verify=self.verify,
            members=self.members,
            rotation_holder=self.holder(policy, base.at),
            outcome=self._outcome(base.content.id),
        )

    def derived(self, pid: int, now: datetime | None = None) -> Derived:
        facts = self.acts.facts([pid]).get(pid)
        if facts is None:
            # A row without its proposal act (opened before acts were kept, or inserted
            # by hand) is shown as it is, invalid: it never counts and never runs.
            row = self.store.get(pid)  # UsageError "no proposal N" when there is none
            return Derived(replace(row, state=State.INVALID), (), ())
        return self._derive(facts, now)

    def every(self, now: datetime | None = None) -> list[Derived]:
        """Every proposal, derived, oldest first (a cached row that says settled is not
        believed: only an execution's recorded outcome settles one)."""
        facts = self.acts.facts(self.store.ids())
        return [self._derive(facts[pid], now) for pid in sorted(facts)]

    def pending(self, now: datetime | None = None, *, refresh: bool = False) -> list[Derived]:
        """Proposals whose derived state is still open, blocked or approved.

        The cache picks the candidates (rows it holds as open, blocked or approved), so
        the settled history is not derived on every call. A row edited to look settled
        is left out of this list, which lets nothing through: every vote and execution
        derives its own proposal. `refresh` (mutating paths only) rewrites the rows of
        candidates whose derived state moved on (expired, withdrawn...).
        """
        live = {p.id: p for p in self.store.list([State.OPEN, State.BLOCKED, State.APPROVED])}
        facts = self.acts.facts(live)
        found = [self._derive(facts[pid], now) for pid in sorted(facts)]
        if refresh:
            for derived in found:
                if derived.proposal.state is not live[derived.proposal.id].state:
                    with self.store.writing():
                        self.store.put(derived.proposal)
        return [d for d in found if d.proposal.state not in FINAL]

    # -- writing -----------------------------------------------------------------------

    def _sign(self, act: Act, proposal: Proposal | None) -> Signed:
        if self.signer is None:
            return Signed(act)
        if proposal is None:
            assert isinstance(act, ProposalAct)
            return Signed(act, self.signer.sign(act.message()))
        return Signed(act, self.signer.sign(message_for(act, proposal)))

    def propose(self, draft: Proposal, make: Callable[[Proposal], ProposalAct]) -> Derived:
        """Stores a new proposal: a cached row gives it an id, then its signed act.

        The same change still pending is refused (`AlreadyPending`), checked in the
        transaction that writes the row, so two processes proposing it at once open one.
        """

        def refuse_same() -> None:
            for derived in self.pending():
                if same_change(derived.proposal, draft):
                    raise AlreadyPending(derived)

        created = self.store.create(draft, before=refuse_same)
        signed = self._sign(make(created), None)
        with self.store.writing():
            self.acts.add(signed)
            derived = self.derived(created.id)
            self.store.put(derived.proposal)
        return derived

    def act(self, pid: int, make: Callable[[Proposal], Act]) -> tuple[Proposal, Proposal]:
        """Adds one act to proposal `pid` under the write lock; returns (before, after).

        `make` builds the act from the proposal as it now stands; the rules check it
        (raising what they refuse) before it is signed and stored.
        """
        with self.store.writing():
            before = self.derived(pid)
            if not before.valid:
                raise PolicyRefused(
                    f"proposal {pid} is invalid (its proposer's act is missing or does not "
                    "verify); it never counts: propose the change again"
                )
            p = before.proposal
            act = make(p)
            policy = self.policy(p.ref.environment)
            apply_act(p, act, policy, self.holder(policy, p.created_at))
            self.acts.add(self._sign(act, p))
            after = self.derived(pid)
            self.store.put(after.proposal)
        return p, after.proposal

    def recache(self, pid: int) -> Proposal:
        """Brings the cached row of `pid` up to its derived state (after an execution)."""
        with self.store.writing():
            derived = self.derived(pid)
            self.store.put(derived.proposal)
        return derived.proposal

    def require_executable(self, pid: int, revision: str, replicas: int | None) -> Derived:
        """Raises unless `pid`, derived now, is approved for exactly this change.

        Run inside the execution claim, so nothing written since the approval was
        read (a forged state, a withdrawal, an amendment) can slip through.
        """
        derived = self.derived(pid)
        p = derived.proposal
        if p.state is not State.APPROVED:
            raise PolicyRefused(
                f"proposal {pid} is {p.state.value} by its signed acts; it does not run"
            )
        if p.revision != revision or p.replicas != replicas:
            raise PolicyRefused(f"proposal {pid} now asks for {p.describe()}; it does not run")
        return derived
