"""The consensus rule exists twice, in Python (what clients show) and in SQL (what the
server lets run): for random policies and random sequences of acts, they agree."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.domain.acts import AmendAct, Content, OverrideAct, ProposalAct, VoteAct, WithdrawAct
from console.domain.consensus import Kind
from console.domain.derive import Act, Facts, Signed, derive
from console.domain.model import TargetRef
from console.domain.settings import Policy
from console.store.acts import body
from tests.pg_support import MEMBERS, OWNER, PgServer, connect_as, initialised

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
REF = TargetRef("k8s", "api", "production", "deployment/api")
PEOPLE = (*MEMBERS, "mallory")  # mallory is no member: her acts never count
KINDS = {AmendAct: "amend", VoteAct: "vote", OverrideAct: "override", WithdrawAct: "withdraw"}


@pytest.fixture(scope="module")
def owner(pg_server: PgServer) -> Iterator[psycopg.Connection]:
    with connect_as(pg_server, OWNER, initialised(pg_server, "agreement")) as conn:
        yield conn


policies = st.builds(
    Policy,
    environment=st.just("production"),
    min_approvals=st.integers(0, 3),
    allow_self_approval=st.booleans(),
    block_on_rejections=st.integers(1, 3),
    vote_ttl=st.sampled_from([timedelta(minutes=30), timedelta(hours=2)]),
    dismiss_stale_votes=st.booleans(),
)
minutes = st.integers(0, 90).map(lambda m: T0 + timedelta(minutes=m))
people = st.sampled_from(PEOPLE)
versions = st.integers(0, 3)
votes = st.builds(VoteAct, st.just(0), st.integers(1, 2), people, st.booleans(), minutes)
acts = st.one_of(
    votes,
    votes,
    votes,
    st.builds(VoteAct, st.just(0), versions, people, st.booleans(), minutes),
    st.builds(AmendAct, st.just(0), versions, st.sampled_from(["v2", "v3", ""]), people, minutes),
    st.builds(OverrideAct, st.just(0), versions, people, st.sampled_from(["urgent", " "]), minutes),
    st.builds(WithdrawAct, st.just(0), versions, people, minutes),
)


def store(conn: psycopg.Connection, proposer: str, sequence: list[Act]) -> int:
    """The proposal and its acts as the owner writes them (dated at will: the server's
    functions would date them now); the acts' bodies exactly as clients store them."""
    row = conn.execute(
        "INSERT INTO quorum.proposals (kind, provider, service, environment, target, "
        "revision, proposer, reason, created_at) VALUES ('deploy', 'k8s', 'api', "
        "'production', 'deployment/api', 'v1', %s, 'r', %s) RETURNING id",
        (proposer, T0),
    ).fetchone()
    assert row is not None
    pid = int(row[0])
    base = ProposalAct(Content(pid, 1, Kind.DEPLOY, REF, "v1", None), proposer, "r", T0)
    for act in [base, *sequence]:
        kind = "proposal" if act is base else KINDS[type(act)]
        conn.execute(
            "INSERT INTO quorum.proposal_acts (proposal_id, kind, author, at, body) "
            "VALUES (%s, %s, %s, %s, %s)",
            (pid, kind, act.author, act.at, json.dumps(body(act), sort_keys=True)),
        )
    return pid


def python_state(pid: int, proposer: str, sequence: list[Act], policy: Policy, now: datetime):
    base = ProposalAct(Content(pid, 1, Kind.DEPLOY, REF, "v1", None), proposer, "r", T0)
    mine = [replace(a, proposal_id=pid) for a in sequence]
    facts = Facts(
        Signed(base),
        amendments=tuple(Signed(a) for a in mine if isinstance(a, AmendAct)),
        votes=tuple(Signed(a) for a in mine if isinstance(a, VoteAct)),
        overrides=tuple(Signed(a) for a in mine if isinstance(a, OverrideAct)),
        withdrawals=tuple(Signed(a) for a in mine if isinstance(a, WithdrawAct)),
    )
    derived = derive(facts, policy, now, verify=None, members=frozenset(MEMBERS))
    return derived.proposal.state.value, derived.proposal.revision


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    policy=policies,
    proposer=st.sampled_from([*MEMBERS, *MEMBERS, "mallory"]),
    sequence=st.lists(acts, max_size=8),
    now=st.integers(0, 150).map(lambda m: T0 + timedelta(minutes=m)),
)
def test_the_server_counts_as_the_clients_do(
    owner: psycopg.Connection, policy: Policy, proposer: str, sequence: list[Act], now: datetime
) -> None:
    with owner.transaction(force_rollback=True):
        owner.execute("DELETE FROM quorum.policies")
        owner.execute(
            "INSERT INTO quorum.policies VALUES ('production', %s, %s, %s, %s, %s)",
            (
                policy.min_approvals,
                policy.allow_self_approval,
                policy.block_on_rejections,
                policy.vote_ttl,
                policy.dismiss_stale_votes,
            ),
        )
        pid = store(owner, proposer, sequence)
        row = owner.execute("SELECT * FROM quorum.derived(%s, %s)", (pid, now)).fetchone()
    assert row is not None
    assert (row[0], row[1]) == python_state(pid, proposer, sequence, policy, now)
