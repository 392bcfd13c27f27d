"""A property over random sequences of acts written through the store layer on either
ledger (each author through their own login on PostgreSQL): the state the engine derives
from what it reads back is the rules' state over the acts as written, and on PostgreSQL
the server's own count agrees."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.domain.acts import AmendAct, OverrideAct, ProposalAct, VoteAct, WithdrawAct
from console.domain.consensus import Kind, Proposal
from console.domain.derive import Act, Facts, Signed, content_at, derive
from console.domain.identity import Identity
from console.domain.model import TargetRef, utcnow
from console.domain.settings import Config, Policy
from console.engine.actions import Actions
from console.engine.session import Session, open_session
from console.store.backends import proposal_stores
from tests.pg_support import MEMBERS, OWNER, Ledgers, connect_as

REF = TargetRef("sim", "api", "production", "deployment/api")
EXAMPLES = {"sqlite": 150, "postgres": 80}  # each PostgreSQL example: a dozen round trips

policies = st.builds(
    Policy,
    environment=st.just("production"),
    min_approvals=st.integers(0, 3),
    allow_self_approval=st.booleans(),
    block_on_rejections=st.integers(1, 3),
    vote_ttl=st.sampled_from([timedelta(seconds=60), timedelta(seconds=120), timedelta(hours=1)]),
    dismiss_stale_votes=st.booleans(),
)
people = st.sampled_from(MEMBERS)
gaps = st.integers(1, 30)
versions = st.integers(1, 3)
# (kind, author, version, detail, seconds after the previous act): dated by their author
# within the five minutes the server accepts, in the order written.
steps = st.one_of(
    st.tuples(st.just("vote"), people, versions, st.booleans(), gaps),
    st.tuples(st.just("vote"), people, st.just(1), st.booleans(), gaps),
    st.tuples(st.just("amend"), people, versions, st.sampled_from(["v2", "v3"]), gaps),
    st.tuples(st.just("override"), people, versions, st.just("urgent"), gaps),
    st.tuples(st.just("withdraw"), people, versions, st.none(), gaps),
)


def act_of(step: tuple, pid: int, at: datetime) -> Act:
    kind, author, version, detail, _ = step
    if kind == "vote":
        return VoteAct(pid, version, author, detail, at)
    if kind == "amend":
        return AmendAct(pid, version, detail, author, at)
    if kind == "override":
        return OverrideAct(pid, version, author, detail, at)
    return WithdrawAct(pid, version, author, at)


class Writers:
    """The store layer as each member: one pair of stores per login on PostgreSQL (the
    server names the author), one pair on the file (the act names it)."""

    def __init__(self, ledger: Ledgers, config: Config) -> None:
        self.ledger, self.config = ledger, config
        self.stores: dict[str, Any] = {}

    def of(self, who: str) -> Any:
        key = who if self.ledger.on_postgres else ""
        if key not in self.stores:
            self.ledger.act_as(who)
            self.stores[key] = proposal_stores(self.config, self.ledger.path)
        return self.stores[key]

    def close(self) -> None:
        for store, _ in self.stores.values():
            store.close()


@pytest.fixture
def team(ledgers: Ledgers) -> Iterator[tuple[Ledgers, Session, Writers]]:
    session = open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))
    config = replace(session.config, members=MEMBERS, signers=None, simulated_teammates=())
    session.config = ledgers.initialise(config)
    writers = Writers(ledgers, session.config)
    yield ledgers, session, writers
    writers.close()


def test_the_engine_derives_the_rules_state_from_what_either_ledger_kept(
    team: tuple[Ledgers, Session, Writers],
) -> None:
    ledger, session, writers = team
    kind = "postgres" if ledger.on_postgres else "sqlite"

    @settings(
        max_examples=EXAMPLES[kind],
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        policy=policies,
        proposer=people,
        sequence=st.lists(steps, max_size=7),
        later=st.integers(0, 4000),
    )
    def holds(policy: Policy, proposer: str, sequence: list[tuple], later: int) -> None:
        config = replace(session.config, policies={"production": policy})
        session.config = ledger.initialise(config)  # the server counts with it too
        at = utcnow() - timedelta(seconds=250)
        store, acts = writers.of(proposer)
        draft = Proposal(0, Kind.DEPLOY, REF, "v1", proposer, "r", at, at)
        with store.writing():
            created = store.insert(draft)
            base = ProposalAct(content_at(created), proposer, "r", at)
            acts.add(Signed(base))
        written: list[Act] = []
        for step in sequence:
            at += timedelta(seconds=step[-1])
            act = act_of(step, created.id, at)
            store, acts = writers.of(act.author)
            with store.writing():
                acts.add(Signed(act))
            written.append(act)
        now = at + timedelta(seconds=later)

        def of(kind: type) -> tuple[Signed, ...]:
            return tuple(Signed(a) for a in written if isinstance(a, kind))

        facts = Facts(Signed(base), of(AmendAct), of(VoteAct), of(OverrideAct), of(WithdrawAct))
        rules = derive(facts, policy, now, verify=None, members=frozenset(MEMBERS)).proposal
        ledger.act_as("carol")
        actions = Actions(session, identity=Identity("carol", "carol"), clock=lambda: now)
        try:
            view = actions.get(created.id)
        finally:
            actions.close()
        assert (view.state, view.proposal.revision) == (rules.state, rules.revision)
        assert [v.voter for v in view.proposal.votes] == [v.voter for v in rules.votes]
        if ledger.on_postgres:
            with connect_as(ledger.server, OWNER, ledger.database) as owner:
                row = owner.execute(
                    "SELECT state, revision FROM quorum.derived(%s, %s)", (created.id, now)
                ).fetchone()
            assert row == (rules.state.value, rules.revision)

    holds()
