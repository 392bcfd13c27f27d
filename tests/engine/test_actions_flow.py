"""The actions path in-process against the sandbox world: policy, audit, provider, notify."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from pytest_httpserver import HTTPServer

from console.domain.acts import ProposalAct
from console.domain.consensus import Kind, Proposal, State
from console.domain.derive import content_at
from console.domain.errors import PolicyRefused
from console.domain.identity import Identity
from console.domain.model import TargetRef, utcnow
from console.domain.names import current_user
from console.domain.settings import NotifyConfig, Policy
from console.engine.actions import Actions, NeedsConsensus
from console.engine.sandbox_teammates import sandbox_teammates_vote
from console.engine.session import Session, open_session
from console.engine.targets import resolve_target
from console.rotation.schedule import holder_at
from console.store.audit import AuditLog

T = TypeVar("T")
ME = current_user()


def sandbox(readonly: bool = False, **config_changes: object) -> Session:
    args = argparse.Namespace(config=None, sandbox=True, readonly=readonly)
    session = open_session(args)
    session.config = replace(session.config, **config_changes)
    return session


def run(session: Session, scenario: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await scenario()
        finally:
            await session.close()

    return asyncio.run(main())


def as_(session: Session, name: str, **kw: object) -> Actions:
    return Actions(session, identity=Identity(name, ME), **kw)


async def ref_of(session: Session, service: str, env: str) -> TargetRef:
    return (await resolve_target(session, service, env)).ref


async def revision_of(session: Session, service: str, env: str) -> str:
    return (await resolve_target(session, service, env)).revision


def records(session: Session, key: str) -> list[tuple[str, str, str]]:
    log = AuditLog(session.audit_path)
    try:
        return [(r.who, r.action, r.outcome) for r in log.by_key(key)]
    finally:
        log.close()


def test_staging_deploys_at_once_and_a_retry_never_runs_twice() -> None:
    session = sandbox()

    async def scenario() -> None:
        ref = await ref_of(session, "api", "staging")
        me = as_(session, ME)
        first = await me.deploy(ref, "v9.9.9", key="ci-run-41")
        assert first.ok and not first.replayed
        assert await revision_of(session, "api", "staging") == "v9.9.9"
        # Another deploy moves staging on; the retried key must not move it back.
        await me.deploy(ref, "v10.0.0")
        again = await me.deploy(ref, "v9.9.9", key="ci-run-41")
        assert again.ok and again.replayed
        assert await revision_of(session, "api", "staging") == "v10.0.0"
        me.close()

    run(session, scenario)
    assert records(session, "ci-run-41") == [
        (ME, "deploy", "started"),
        (ME, "deploy", "finished"),
    ]


def test_production_needs_two_approvals_then_executes_in_the_vote() -> None:
    session = sandbox()

    async def scenario() -> None:
        ref = await ref_of(session, "web", "production")
        me = as_(session, ME)
        with pytest.raises(NeedsConsensus) as opened:
            await me.deploy(ref, "v4.0.0", reason="new header")
        pid = opened.value.view.id
        assert opened.value.exit_code == 3
        assert opened.value.view.tally.needed == 2
        with pytest.raises(PolicyRefused, match="self-approval"):
            await me.vote(pid, True)
        first = await as_(session, "alice").vote(pid, True, "looks good")
        assert first.outcome is None and first.proposal.tally.needed == 1
        assert await revision_of(session, "web", "production") != "v4.0.0"
        second = await as_(session, "bob").vote(pid, True, confirmed_run=True)
        assert second.outcome is not None and second.outcome.ok
        assert second.proposal.state is State.EXECUTED
        assert await revision_of(session, "web", "production") == "v4.0.0"
        with pytest.raises(PolicyRefused, match="executed"):
            await as_(session, "carol").vote(pid, False)

    run(session, scenario)
    trail = records(session, "proposal-1")
    assert trail[0] == (ME, "propose", "open")
    assert (ME, "vote", "refused") in trail
    assert trail[-5:] == [
        ("alice", "vote", "approve"),
        ("bob", "vote", "approve"),
        ("bob", "deploy", "started"),
        ("bob", "deploy", "finished"),
        ("carol", "vote", "refused"),
    ]


def test_one_rejection_does_not_block_two_do_and_a_changed_mind_reopens() -> None:
    session = sandbox()

    async def scenario() -> None:
        ref = await ref_of(session, "worker", "production")
        result = await as_(session, ME).propose(Kind.DEPLOY, ref, revision="v4")
        pid = result.proposal.id
        one = await as_(session, "carol").vote(pid, False)
        assert one.proposal.state is State.OPEN
        assert one.proposal.summary == "needs 2 more approvals; rejections 1 of 2 to block"
        two = await as_(session, "alice").vote(pid, False)
        assert two.proposal.state is State.BLOCKED
        reopened = await as_(session, "alice").vote(pid, True)
        assert reopened.proposal.state is State.OPEN
        assert reopened.proposal.tally.approvals == ("alice",)

    run(session, scenario)


def test_non_members_and_readonly_consoles_are_refused() -> None:
    session = sandbox()

    async def scenario() -> int:
        ref = await ref_of(session, "api", "production")
        result = await as_(session, ME).propose(Kind.DEPLOY, ref, revision="v5")
        with pytest.raises(PolicyRefused, match="mallory is not in \\[team\\] members"):
            await as_(session, "mallory").vote(result.proposal.id, True)
        return result.proposal.id

    pid = run(session, scenario)
    readonly = sandbox(readonly=True)

    async def refused() -> None:
        ref = await ref_of(readonly, "api", "staging")
        actions = as_(readonly, "alice")
        for attempt in (
            actions.vote(pid, True),
            actions.deploy(ref, "v6"),
            actions.rollback(ref),
            actions.override(pid, "because"),
        ):
            with pytest.raises(PolicyRefused, match="read-only"):
                await attempt
        assert actions.get(pid).tally.approvals == ()

    run(readonly, refused)


def test_override_runs_at_once_notifies_and_waits_for_someone_elses_review(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    monkeypatch.setenv("QUORUM_TEST_HOOK", httpserver.url_for("/hook"))
    session = sandbox(notify=(NotifyConfig(kind="webhook", url_env="QUORUM_TEST_HOOK"),))

    async def scenario() -> None:
        ref = await ref_of(session, "billing", "production")
        opened = await as_(session, ME).propose(Kind.DEPLOY, ref, revision="v1.7.0")
        pid = opened.proposal.id
        done = await as_(session, "alice").override(pid, "card payments down")
        assert done.outcome is not None and done.outcome.ok
        assert done.proposal.state is State.EXECUTED and done.proposal.proposal.awaiting_review
        assert await revision_of(session, "billing", "production") == "v1.7.0"
        queue = as_(session, "bob").awaiting_review()
        assert [v.id for v in queue] == [pid]
        with pytest.raises(PolicyRefused, match="cannot review"):
            await as_(session, "alice").review(pid)
        reviewed = await as_(session, "bob").review(pid, "right call")
        assert reviewed.proposal.reviewed_by == "bob"
        assert as_(session, "bob").awaiting_review() == []

    run(session, scenario)
    bodies = [json.loads(req.get_data()) for req, _ in httpserver.log]
    overrides = [b for b in bodies if b["title"].startswith("OVERRIDE")]
    assert len(overrides) == 1 and overrides[0]["severity"] == "critical"
    assert "card payments down" in overrides[0]["text"]
    trail = records(session, "proposal-1")
    assert ("alice", "override", "approved") in trail
    assert ("alice", "review", "refused") in trail
    assert trail[-1] == ("bob", "review", "recorded")


def test_anyone_rolls_back_without_a_vote_and_the_team_hears(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    monkeypatch.setenv("QUORUM_TEST_HOOK", httpserver.url_for("/hook"))
    session = sandbox(notify=(NotifyConfig(kind="slack", url_env="QUORUM_TEST_HOOK"),))

    async def scenario() -> None:
        ref = await ref_of(session, "search", "production")
        provider = session.providers[ref.provider]
        history = await provider.revisions(ref)
        before = await revision_of(session, "search", "production")
        outcome = await as_(session, "carol").rollback(ref)
        assert outcome.ok
        after = await revision_of(session, "search", "production")
        assert after != before and after == history[1].id

    run(session, scenario)
    texts = [json.loads(req.get_data())["text"] for req, _ in httpserver.log]
    assert any("rollback search@production: finished" in t for t in texts)


def test_rotation_holder_must_approve_where_the_policy_says() -> None:
    base = sandbox()
    now = utcnow()
    holder = holder_at(base.config, "on-call", now, base.audit_path)
    assert holder is not None
    others = [m for m in base.config.members if m != holder]
    policy = Policy("production", min_approvals=1, require_rotation_approval="on-call")
    session = sandbox(policies={**base.config.policies, "production": policy})
    run(base, lambda: asyncio.sleep(0))

    async def scenario() -> None:
        ref = await ref_of(session, "auth", "production")
        opened = await as_(session, others[0]).propose(Kind.DEPLOY, ref, revision="v3.13.0")
        pid = opened.proposal.id
        assert opened.proposal.tally.rotation_missing
        assert f"needs approval from {holder} (on-call)" in opened.proposal.summary
        voted = await as_(session, others[1]).vote(pid, True)
        assert voted.proposal.state is State.OPEN and voted.outcome is None
        final = await as_(session, holder).vote(pid, True, confirmed_run=True)
        assert final.proposal.state is State.EXECUTED

    run(session, scenario)


def test_a_holder_proposing_under_rotation_approval_is_told_it_cannot_pass() -> None:
    from console.engine.presentation import proposal_lines

    base = sandbox()
    holder = holder_at(base.config, "on-call", utcnow(), base.audit_path)
    assert holder is not None
    others = [m for m in base.config.members if m != holder]
    policy = Policy("production", min_approvals=1, require_rotation_approval="on-call")
    session = sandbox(policies={**base.config.policies, "production": policy})
    run(base, lambda: asyncio.sleep(0))

    async def scenario() -> None:
        ref = await ref_of(session, "auth", "production")
        opened = await as_(session, holder).propose(Kind.DEPLOY, ref, revision="v3.13.0")
        pid = opened.proposal.id
        voted = await as_(session, others[0]).vote(pid, True)
        assert voted.proposal.state is State.OPEN and voted.proposal.tally.needed == 0
        why = f"cannot pass by votes: {holder} holds on-call and proposed it"
        assert why in voted.proposal.summary
        assert voted.proposal.to_json()["stuck"].startswith(why)
        assert any("withdraw and propose again" in line for line in proposal_lines(voted.proposal))
        # Someone else's proposal is not stuck: the holder's approval passes it.
        other = await as_(session, others[0]).propose(Kind.DEPLOY, ref, revision="v3.13.1")
        assert other.proposal.to_json()["stuck"] is None

    run(session, scenario)


def test_deploy_command_gets_the_consensus_environment_and_its_exit_code_counts(
    tmp_path: Path,
) -> None:
    script = tmp_path / "deploy.sh"
    dump = tmp_path / "env.txt"
    script.write_text(
        "#!/bin/sh\n"
        'env | grep -E "^(COLLECTIVE_CONSENSUS|QUORUM_(PROPOSAL_ID|SERVICE|ENVIRONMENT|REVISION'
        f'|OVERRIDE))=" | sort > "{dump}"\n'
        'echo "deploying $QUORUM_SERVICE to $QUORUM_ENVIRONMENT"\n'
        'echo "oops" >&2\n'
        'test "$QUORUM_REVISION" != "bad"\n'
    )
    script.chmod(0o755)
    policy = Policy("production", min_approvals=1, deploy_command=f"{script} full production")
    base = sandbox()
    session = sandbox(policies={**base.config.policies, "production": policy})
    run(base, lambda: asyncio.sleep(0))
    lines: list[str] = []

    async def scenario() -> None:
        ref = await ref_of(session, "api", "production")
        pid = (await as_(session, ME).propose(Kind.DEPLOY, ref, revision="v7")).proposal.id
        done = await as_(session, "alice", on_output=lines.append).vote(
            pid, True, confirmed_run=True
        )
        assert done.outcome is not None and done.outcome.ok
        assert done.proposal.state is State.EXECUTED
        assert dump.read_text().splitlines() == [
            "COLLECTIVE_CONSENSUS=true",
            "QUORUM_ENVIRONMENT=production",
            f"QUORUM_PROPOSAL_ID={pid}",
            "QUORUM_REVISION=v7",
            "QUORUM_SERVICE=api",
        ]
        bad = (await as_(session, ME).propose(Kind.DEPLOY, ref, revision="bad")).proposal.id
        failed = await as_(session, "bob").vote(bad, True, confirmed_run=True)
        assert failed.outcome is not None and not failed.outcome.ok
        assert "exited with status 1" in failed.outcome.detail
        assert failed.proposal.state is State.FAILED

    run(session, scenario)
    assert lines[:2] == ["deploying api to production", "oops"]


def test_sandbox_teammates_bring_a_proposal_to_consensus() -> None:
    session = sandbox()

    async def scenario() -> None:
        ref = await ref_of(session, "notifier", "production")
        me = as_(session, ME)
        opened = await me.propose(Kind.DEPLOY, ref, revision="v2.16.0")
        t0 = opened.proposal.proposal.created_at
        assert await sandbox_teammates_vote(me, t0 + timedelta(seconds=3)) == []
        first = await sandbox_teammates_vote(me, t0 + timedelta(seconds=4))
        assert [(v.teammate, v.approve) for v in first] == [("alice", True)]
        # carol rejects one proposal in three (by id) and abstains on the others.
        assert await sandbox_teammates_vote(me, t0 + timedelta(seconds=6)) == []
        last = await sandbox_teammates_vote(me, t0 + timedelta(seconds=8))
        assert [(v.teammate, v.approve) for v in last] == [("bob", True)]
        assert last[0].result.outcome is not None and last[0].result.outcome.ok
        assert me.get(opened.proposal.id).state is State.EXECUTED
        assert await revision_of(session, "notifier", "production") == "v2.16.0"
        assert await sandbox_teammates_vote(me, t0 + timedelta(seconds=30)) == []

    run(session, scenario)


def test_teammates_are_only_for_configs_that_simulate_them() -> None:
    session = sandbox(simulated_teammates=())

    async def scenario() -> None:
        ref = await ref_of(session, "api", "production")
        me = as_(session, ME)
        opened = await me.propose(Kind.DEPLOY, ref, revision="v3")
        later = opened.proposal.proposal.created_at + timedelta(minutes=5)
        assert await sandbox_teammates_vote(me, later) == []
        with pytest.raises(PolicyRefused, match="not a simulated teammate"):
            await me.vote_as_teammate("alice", opened.proposal.id, True, "")

    run(session, scenario)


def test_expired_proposal_drops_out_and_refuses_votes() -> None:
    session = sandbox()
    clock = [utcnow()]

    async def scenario() -> None:
        ref = await ref_of(session, "api", "production")
        me = Actions(session, identity=Identity(ME, ME), clock=lambda: clock[0])
        pid = (await me.propose(Kind.DEPLOY, ref, revision="v3")).proposal.id
        assert [v.id for v in me.open_proposals()] == [pid]
        clock[0] += timedelta(hours=24, seconds=1)
        assert me.open_proposals() == []
        assert me.get(pid).state is State.EXPIRED
        late = Actions(session, identity=Identity("alice", ME), clock=lambda: clock[0])
        with pytest.raises(PolicyRefused, match="expired"):
            await late.vote(pid, True)

    run(session, scenario)


def test_an_approved_proposal_left_unexecuted_by_a_crash_runs_once() -> None:
    session = sandbox()

    async def scenario() -> None:
        ref = await ref_of(session, "auth", "staging")
        me = as_(session, ME)
        then = utcnow() - timedelta(minutes=5)
        draft = Proposal(
            id=0,
            kind=Kind.DEPLOY,
            ref=ref,
            revision="v3.99.0",
            proposer="alice",
            reason="",
            created_at=then,
            updated_at=then,
        )
        # Proposed (staging needs no votes: approved at once) by processes that died
        # before they executed: the acts are stored, the claims never made.
        stranded = me.ledger.propose(
            draft, lambda row: ProposalAct(content_at(row), "alice", "", then)
        ).proposal
        now = utcnow()
        fresh = me.ledger.propose(
            replace(draft, revision="v3.99.1", created_at=now, updated_at=now),
            lambda row: ProposalAct(content_at(row), "alice", "", now),
        ).proposal
        ran = await me.run_approved()
        assert [(o.key, o.ok) for o in ran] == [(f"proposal-{stranded.id}", True)]
        assert me.get(stranded.id).state is State.EXECUTED
        assert me.get(fresh.id).state is State.APPROVED  # its approver is still at work
        assert await me.run_approved() == []
        assert await revision_of(session, "auth", "staging") == "v3.99.0"

    run(session, scenario)
