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

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from itertools import chain
from pathlib import Path

from console.domain.acts import ProposalAct
from console.domain.bulk_verify import BulkVerifier
from console.domain.consensus import FINAL, Proposal, State, Tally, same_change
from console.domain.derive import (
    CLOCK_SKEW,
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
from console.engine import collector
from console.rotation.schedule import holder_at
from console.signing.signer import Signer
from console.store.backends import proposal_stores, rotation_source
from console.store.claims import FINISHED, ClaimStore


def proposal_key(pid: int) -> str:
    """The idempotency key of a proposal's execution, shared by all its audit records.

    Users cannot choose keys in this namespace (`console.engine.actions` refuses them).
    """
    return f"proposal-{pid}"


NEVER = datetime.max.replace(tzinfo=UTC)

# The states a cached row may hold for a proposal still pending (the candidates).
LIVE = (State.OPEN, State.BLOCKED, State.APPROVED)
# How many candidates are read and derived at a time (the store reads 500 per query).
PENDING_CHUNK = 500


class Pending:
    """The live proposals as derived at `at` from the file at `version`: the same answer
    until the file changes or the clock reaches `until`. `moved` are those whose cached
    row still says another state, for a refreshing caller to rewrite.

    `until` is worked out when first asked (`later`): the console asks at once, to know
    when to derive again, but a command that lists the proposals and exits never does,
    and for thousands it is a pass over every one."""

    __slots__ = ("version", "at", "found", "moved", "_until", "_later")

    def __init__(
        self,
        version: tuple[int, int],
        at: datetime,
        found: tuple[Derived, ...],
        moved: tuple[Proposal, ...],
        later: Callable[[], datetime],
    ) -> None:
        self.version = version
        self.at = at
        self.found = found
        self.moved = moved  # derived in another state than their cached rows say
        self._until: datetime | None = None
        self._later: Callable[[], datetime] | None = later

    @property
    def until(self) -> datetime:
        if self._until is None:
            assert self._later is not None
            # Two threads may both work it out: the same value, from values that stay.
            # A pass over thousands of proposals, whose lists would start collector
            # passes on the way.
            with collector.paused():
                self._until, self._later = self._later(), None
        return self._until

    def holds(self, version: tuple[int, int], now: datetime) -> bool:
        return version == self.version and self.at <= now < self.until


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
        self.store, self.acts = proposal_stores(config, path)
        self.members = frozenset(config.members) if config.members else None
        signers = config.signers
        self.verify = (
            None if signers is None else lru_cache(maxsize=65536)(BulkVerifier(signers).valid)
        )
        self._pending: Pending | None = None
        # Rotation holders at instants the schedule can no longer change (`holder`).
        self._holders: dict[tuple[str, datetime], str | None] = {}

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
        key = (rotation, proposal_created)
        if key in self._holders:
            return self._holders[key]
        path = rotation_source(self.config, self.path)
        found = holder_at(self.config, rotation, proposal_created, path, as_known=True)
        # Read as known then, the holder stays what it was once no change can still be
        # dated before that instant (a clock may lag by CLOCK_SKEW): kept from then on,
        # since each read costs a connection on the PostgreSQL ledger.
        if proposal_created < self.clock() - CLOCK_SKEW:
            self._holders[key] = found
        return found

    def version(self) -> tuple[int, int]:
        """A value that changes whenever the ledger does (`ProposalStore.version`)."""
        return self.store.version()

    def _outcomes(self, pids: Iterable[int]) -> dict[int, tuple[bool, str]]:
        """How the execution of each of `pids` ended, for those whose execution did."""
        keys = {proposal_key(pid): pid for pid in pids}
        return {
            keys[key]: (outcome == FINISHED, detail)
            for key, (outcome, detail) in self.claims.outcomes(keys).items()
            if outcome
        }

    def _derive(
        self,
        facts: Facts,
        now: datetime | None = None,
        outcomes: dict[int, tuple[bool, str]] | None = None,
    ) -> Derived:
        """`facts` derived at `now`; `outcomes` read beforehand for many at once, else
        the proposal's own execution is read."""
        base = facts.proposal.act
        pid = base.content.id
        policy = self.policy(base.content.ref.environment)
        if outcomes is None:
            outcomes = self._outcomes([pid])
        return derive(
            facts,
            policy,
            now or self.clock(),
            verify=self.verify,
            members=self.members,
            rotation_holder=self.holder(policy, base.at),
            outcome=outcomes.get(pid),
        )

    def changes_at(self, ahead: Iterable[datetime], derived: Derived) -> datetime:
        """The first instant at which deriving a proposal again could answer otherwise, the
        file unchanged: one of its acts dated ahead of the clock (`ahead`: the instants
        of those past the reader's `CLOCK_SKEW`) comes into reach, the proposal expires,
        or a vote stops counting (`rules.evaluate`, `rules.tally`)."""
        times = [at - CLOCK_SKEW for at in ahead]
        p = derived.proposal
        if p.state not in FINAL:
            ttl = self.policy(p.ref.environment).vote_ttl
            times.append(p.updated_at + ttl)
            times.extend(v.at + ttl for v in p.votes)
        return min(times, default=NEVER)

    def derived(self, pid: int, now: datetime | None = None) -> Derived:
        facts = self.acts.facts([pid]).get(pid)
        if facts is None:
            return self._actless(pid)
        return self._derive(facts, now)

    def _actless(self, pid: int) -> Derived:
        """A row without its proposal act, shown as it is and never counting or running:
        legacy when an older Quorum made it before acts were kept (its row says what it
        recorded, unsigned), else invalid (inserted by hand)."""
        row = self.store.get(pid)  # UsageError "no proposal N" when there is none
        if not self.acts.made_before_acts(pid):
            return Derived(replace(row, state=State.INVALID), (), ())
        votes = ", ".join(f"{v.voter} {'approve' if v.approve else 'reject'}" for v in row.votes)
        said = f"made before Quorum signed its acts, unsigned; recorded as {row.state.value}"
        said += f" ({votes})" if votes else ""
        return Derived(replace(row, state=State.LEGACY, detail=said), (), ())

    def every(self, now: datetime | None = None) -> list[Derived]:
        """Every proposal, derived, oldest first (a cached row that says settled is not
        believed: only an execution's recorded outcome settles one)."""
        with collector.paused():
            facts = self.acts.facts(self.store.ids())
            outcomes = self._outcomes(facts)
            return [self._derive(facts[pid], now, outcomes) for pid in sorted(facts)]

    def overridden(self, now: datetime | None = None) -> list[Derived]:
        """Every proposal that has an override act, derived, oldest first: the only ones
        that can await a review. Picked by their acts, not by the cached rows."""
        facts = self.acts.facts(self.acts.ids_with("override"))
        outcomes = self._outcomes(facts)
        return [self._derive(facts[pid], now, outcomes) for pid in sorted(facts)]

    def pending(self, now: datetime | None = None, *, refresh: bool = False) -> list[Derived]:
        """Proposals whose derived state is still open, blocked or approved.

        The cache picks the candidates (rows it holds as open, blocked or approved), so
        the settled history is not derived on every call. A row edited to look settled
        is left out of this list, which lets nothing through: every vote and execution
        derives its own proposal. `refresh` (mutating paths only) rewrites the rows of
        candidates whose derived state moved on (expired, withdrawn...).

        Each answer has its proposal and the acts that did not count, but not the acts
        replayed (`counted` is empty): listings need only the former, and a team's
        thousands of open proposals are held between refreshes.
        Whoever needs the replayed acts derives the one proposal (`derived`).

        The answer is kept while the file does not change (`version`) and the clock has
        not reached the first instant it could differ (`changes_at`): the console asks
        every two seconds, and a team's thousands of open proposals are derived again
        only when something happened to them.
        """
        return list(self.pending_held(now, refresh=refresh).found)

    def pending_held(self, now: datetime | None = None, *, refresh: bool = False) -> Pending:
        """`pending` with the file version and the instants between which it holds."""
        now = now or self.clock()
        # One derivation at a time: the console's refresh and its catch-up ask at once,
        # and the second is answered by the first's result. The store's own lock, which
        # a refresh's writes take again.
        with self.store.lock:
            version = self.version()
            memo = self._pending
            if memo is None or not memo.holds(version, now):
                memo = self._derive_pending(version, now)
            if refresh and memo.moved:
                with self.store.writing():
                    for proposal in memo.moved:
                        self.store.put(proposal)
                self._pending = None  # the rows moved the version: derived again next time
            else:
                self._pending = memo
        return memo

    def _derive_pending(self, version: tuple[int, int], now: datetime) -> Pending:
        """The candidates derived a chunk at a time, each kept without the acts it
        replayed: no caller of the list reads them, and held between refreshes they
        would keep every proposal's acts alive. Read all at once, the acts of 10,000
        proposals were alive together (~10 MB the console's memory then kept as its
        own); now those of one chunk are."""
        kept: list[Derived] = []
        moved: list[Proposal] = []  # derived in another state than their cached rows say
        # The few candidates that derived to a final state keep the instants of their
        # acts ahead for `until`: an invalid one's derivation read no act but its own.
        settled: list[tuple[list[datetime], Derived]] = []
        horizon = now + CLOCK_SKEW
        # Equal tallies kept once: thousands of open proposals waiting for their first
        # vote under the same policy tally alike, and each kept its own (~1 MiB that the
        # console's resident set kept for 10,000).
        tallies: dict[Tally, Tally] = {}
        # The candidates' rows are read inside too (10,000 rows alive at once), and the
        # list kept is built inside: 10,000 values more.
        with collector.paused():
            live = self.store.states(LIVE)
            ids = sorted(live)
            for start in range(0, len(ids), PENDING_CHUNK):
                facts = self.acts.facts(ids[start : start + PENDING_CHUNK])
                outcomes = self._outcomes(facts)
                for pid in sorted(facts):
                    d = self._derive(facts[pid], now, outcomes)
                    p = d.proposal
                    if p.state is not live[pid]:
                        moved.append(p)
                    tally = d.tally
                    if tally is not None:
                        tally = tallies.setdefault(tally, tally)
                    slim = Derived(p, (), d.ignored, tally)
                    if p.state in FINAL:
                        ahead = [s.act.at for s in facts[pid].acts() if s.act.at > horizon]
                        settled.append((ahead, slim))
                    else:
                        kept.append(slim)
            result = tuple(kept)

        def later() -> datetime:
            """`until` from the kept derivations alone: each act dated past the horizon
            was ignored as such (the first check of `derive`), and the proposal's own
            act is its creation."""
            waiting = (
                (
                    [
                        *([d.proposal.created_at] if d.proposal.created_at > horizon else ()),
                        *(s.act.at for s, _ in d.ignored if s.act.at > horizon),
                    ],
                    d,
                )
                for d in result
            )
            changes = (self.changes_at(ahead, d) for ahead, d in chain(settled, waiting))
            return min(changes, default=NEVER)

        return Pending(version, now, result, tuple(moved), later)

    def twin(self, draft: Proposal) -> Derived | None:
        """The pending proposal that asks for the change `draft` asks for, derived from its
        acts, if there is one (the oldest).

        The cached rows pick the candidates, as they do for `pending`: live ones for the
        same change (`ProposalStore.twins`). So a proposal costs the derivation of its
        twins only, not of every open proposal, which made opening thousands quadratic
        (each write moves the version `pending` keeps its answer for). A row edited by
        hand to hide a twin lets the same change be proposed twice, which splits its
        votes and approves nothing: every vote and execution derives its own proposal.
        """
        facts = self.acts.facts(self.store.twins(draft, LIVE))
        outcomes = self._outcomes(facts)
        for pid in sorted(facts):
            derived = self._derive(facts[pid], None, outcomes)
            if derived.proposal.state not in FINAL and same_change(derived.proposal, draft):
                return derived
        return None

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

        The same change still pending is refused (`AlreadyPending`). The check, the row
        and the act are one write transaction, so two processes proposing the same
        change at once open it once.
        """
        with self.store.writing():
            twin = self.twin(draft)
            if twin is not None:
                raise AlreadyPending(twin)
            created = self.store.insert(draft)
            self.acts.add(self._sign(make(created), None))
            derived = self.derived(created.id)
            self.store.put(derived.proposal)
        return derived

    def act(
        self,
        pid: int,
        make: Callable[[Proposal], Act],
        accept: Callable[[Proposal, Proposal], None] | None = None,
    ) -> tuple[Proposal, Proposal]:
        """Adds one act to proposal `pid` under the write lock; returns (before, after).

        `make` builds the act from the proposal as it now stands; the rules check it
        (raising what they refuse) before it is signed and stored. `accept(before,
        after)` may refuse it too, once its effect is known: under the lock, so an act
        another process stored meanwhile is part of what it judges.
        """
        with self.store.writing():
            before = self.derived(pid)
            if before.proposal.state is State.LEGACY:
                raise PolicyRefused(
                    f"proposal {pid} was made before Quorum signed its acts (legacy, "
                    "unsigned); it never counts: propose the change again"
                )
            if not before.valid:
                raise PolicyRefused(
                    f"proposal {pid} is invalid (its proposer's act is missing or does not "
                    "verify); it never counts: propose the change again"
                )
            p = before.proposal
            act = make(p)
            policy = self.policy(p.ref.environment)
            effect = apply_act(p, act, policy, self.holder(policy, p.created_at))
            if accept is not None:
                accept(p, effect)
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
