"""Consensus with signed acts through a real ssh-agent, and the defects derived state ends:
lapsed rejections, rotation handoffs, amendments between read and vote, hijacked keys.

Each test runs on the SQLite file and on a PostgreSQL ledger, where every member acts
through their own login (the server records it as the author) and the server counts
again before anything runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from pytest_httpserver import HTTPServer

from console.cli.main import main
from console.domain.consensus import Kind, State
from console.domain.errors import PolicyRefused, UsageError
from console.domain.identity import Identity
from console.domain.model import TargetRef, utcnow
from console.domain.names import current_user
from console.domain.settings import NotifyConfig, Policy
from console.engine.actions import Actions, NeedsConsensus
from console.engine.rotation_changes import override_rotation
from console.engine.session import Session, open_session
from console.engine.targets import resolve_target
from console.rotation.schedule import holder_at
from console.store.backends import rotation_source
from tests.pg_support import Ledgers
from tests.signing_support import SshTeam, start_team

T = TypeVar("T")
ME = current_user()
MEMBERS = ("alice", "bob", "carol", "dave", "erin")  # erin's key is not listed


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SshTeam]:
    for started in start_team(tmp_path / "keys", ("alice", "bob", "carol", "dave"), ("erin",)):
        monkeypatch.setenv("SSH_AUTH_SOCK", str(started.socket))
        yield started


@pytest.fixture
def ledger(ledgers: Ledgers) -> Ledgers:
    ledgers.add_members(*MEMBERS)
    return ledgers


def session_of(ledger: Ledgers, team: SshTeam | None = None, **changes: object) -> Session:
    """The sandbox's providers with the team's ledger (the server's policies are the
    config's: `ledger init` is run again on PostgreSQL)."""
    session = open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))
    config = replace(
        session.config,
        members=MEMBERS,
        signers=team.allowed() if team else None,
        simulated_teammates=(),
    )
    session.config = ledger.initialise(replace(config, **changes))
    return session


def run(session: Session, scenario: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await scenario()
        finally:
            await session.close()

    return asyncio.run(main())


def as_(ledger: Ledgers, session: Session, name: str, **kw: object) -> Actions:
    """`name` acting; on PostgreSQL through their own login, its connections opened now."""
    ledger.act_as(name)
    actions = Actions(session, identity=Identity(name, ME), **kw)
    if ledger.on_postgres:  # connect now, while libpq's variables name `name`
        assert actions.ledger.store is not None and actions.audit is not None
    return actions


async def ref_of(session: Session, service: str, env: str) -> TargetRef:
    return (await resolve_target(session, service, env)).ref


async def revision_of(session: Session, service: str, env: str) -> str:
    return (await resolve_target(session, service, env)).revision


def test_signed_votes_execute_and_the_deploy_command_verifies_its_certificate(
    ledger: Ledgers, team: SshTeam, tmp_path: Path
) -> None:
    script = tmp_path / "deploy.sh"
    report = tmp_path / "verified.txt"
    script.write_text(
        "#!/bin/sh\n"
        f'{sys.executable} -m console certificate verify "$QUORUM_CERTIFICATE" '
        f"--allowed-signers {team.allowed_path} --policy production "
        f'--revision "$QUORUM_REVISION" > {report} 2>&1\n'
    )
    script.chmod(0o755)
    policy = Policy("production", min_approvals=2, deploy_command=str(script))
    session = session_of(ledger, team, policies={"production": policy})

    async def scenario() -> None:
        ref = await ref_of(session, "web", "production")
        with pytest.raises(NeedsConsensus) as opened:
            await as_(ledger, session, "alice").deploy(ref, "v7.0.0")
        pid = opened.value.view.id
        await as_(ledger, session, "bob").vote(pid, True, "ok")
        done = await as_(ledger, session, "carol").vote(pid, True, confirmed_run=True)
        assert done.outcome is not None and done.outcome.ok, done.outcome
        assert done.proposal.state is State.EXECUTED
        assert done.proposal.signed and done.proposal.ignored == ()

    run(session, scenario)
    assert report.read_text().startswith(
        "ok: proposal 1 (deploy web@production to v7.0.0), approved by bob, carol"
    )
    with ledger.log("alice") as log:
        members = frozenset(MEMBERS)
        assert log.verify(signers=team.allowed(), members=members).ok


def test_a_member_without_a_listed_key_cannot_vote(ledger: Ledgers, team: SshTeam) -> None:
    session = session_of(ledger, team)

    async def scenario() -> None:
        ref = await ref_of(session, "api", "production")
        opened = await as_(ledger, session, "alice").propose(Kind.DEPLOY, ref, revision="v2.0.0")
        with pytest.raises(PolicyRefused, match="erin has no key in the allowed signers"):
            await as_(ledger, session, "erin").vote(opened.proposal.id, True)

    run(session, scenario)


def test_a_member_whose_key_is_removed_stops_counting(ledger: Ledgers, team: SshTeam) -> None:
    session = session_of(ledger, team)

    async def scenario() -> int:
        ref = await ref_of(session, "api", "production")
        opened = await as_(ledger, session, "alice").propose(Kind.DEPLOY, ref, revision="v2.0.0")
        voted = await as_(ledger, session, "bob").vote(opened.proposal.id, True)
        assert voted.proposal.tally.approvals == ("bob",)
        return opened.proposal.id

    pid = run(session, scenario)
    team.write_allowed(("alice", "carol", "dave"))  # bob leaves the team's list
    later = session_of(ledger, team)

    async def reread() -> None:
        view = as_(ledger, later, "carol").get(pid)
        assert view.tally.approvals == ()
        assert [(s.act.author, why) for s, why in view.ignored] == [
            ("bob", "the signature is not bob's over this content")
        ]

    run(later, reread)


def test_a_vote_is_bound_to_the_version_its_voter_read(ledger: Ledgers, team: SshTeam) -> None:
    session = session_of(ledger, team)

    async def scenario() -> None:
        ref = await ref_of(session, "api", "production")
        alice = as_(ledger, session, "alice")
        opened = await alice.propose(Kind.DEPLOY, ref, revision="v2.0.0")
        pid = opened.proposal.id
        read = as_(ledger, session, "bob").get(pid)  # bob reads version 1: v2.0.0
        await as_(ledger, session, "carol").vote(pid, True)
        amended = await alice.amend(pid, "v2.0.1-evil")
        assert amended.proposal.proposal.version == 2
        assert amended.proposal.tally.approvals == ()  # carol approved v2.0.0 only
        with pytest.raises(PolicyRefused, match="changed since it was read"):
            await as_(ledger, session, "bob").vote(pid, True, seen_version=read.proposal.version)
        assert as_(ledger, session, "dave").get(pid).tally.approvals == ()

    run(session, scenario)


def test_vote_with_revision_refuses_what_was_not_read(
    ledger: Ledgers,
    team: SshTeam,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = session_of(ledger, team)

    async def scenario() -> int:
        ref = await ref_of(session, "api", "production")
        alice = as_(ledger, session, "alice")
        opened = await alice.propose(Kind.DEPLOY, ref, revision="v2.0.0")
        await alice.amend(opened.proposal.id, "v2.0.1")
        return opened.proposal.id

    pid = run(session, scenario)
    config = session.config
    path = ledger.folder / "team.toml"
    path.write_text(
        "[team]\n"
        f"members = {json.dumps(list(MEMBERS))}\n"
        f'allowed_signers = "{team.allowed_path}"\n'
        f"{ledger.ledger_lines()}"
        '[[providers]]\nname = "sim-k8s"\nkind = "sandbox"\nplatform = "kubernetes"\n'
    )
    assert config.members == MEMBERS
    monkeypatch.setenv("QUORUM_ACT_AS", "bob")
    ledger.act_as("bob")
    code = main(["--config", str(path), "vote", str(pid), "approve", "--revision", "v2.0.0"])
    assert code == 3
    assert "now asks for deploy api@production to v2.0.1, not revision v2.0.0" in (
        capsys.readouterr().err
    )


# -- derived state ends the defects of a stored one (unsigned, as most teams start) ---------


def test_a_lapsed_rejection_no_longer_blocks_and_the_proposal_runs(ledger: Ledgers) -> None:
    """Votes live 200 s here, dated in the last five minutes: the server accepts acts
    dated within five minutes of its clock and counts again, at its own now, before
    the proposal runs."""
    policy = Policy(
        "production", min_approvals=2, block_on_rejections=2, vote_ttl=timedelta(seconds=200)
    )
    session = session_of(ledger, policies={"production": policy})
    start = utcnow()
    clock = [start - timedelta(seconds=270)]

    def at(name: str) -> Actions:
        return as_(ledger, session, name, clock=lambda: clock[0])

    async def scenario() -> None:
        ref = await ref_of(session, "web", "production")
        opened = await at("alice").propose(Kind.DEPLOY, ref, revision="v5.0.0")
        pid = opened.proposal.id
        clock[0] = start - timedelta(seconds=260)
        await at("bob").vote(pid, False)
        clock[0] = start - timedelta(seconds=150)
        await at("carol").vote(pid, False)
        clock[0] = start - timedelta(seconds=100)
        await at("dave").vote(pid, True)
        blocked = await at("erin").vote(pid, True)
        assert blocked.proposal.state is State.BLOCKED
        clock[0] = utcnow()  # bob's rejection is over 200 s old, carol's is not
        assert at("alice").get(pid).state is State.APPROVED
        ran = await at("alice").run_approved()
        assert [(o.key, o.ok) for o in ran] == [(f"proposal-{pid}", True)]
        assert at("alice").get(pid).state is State.EXECUTED
        assert await revision_of(session, "web", "production") == "v5.0.0"

    run(session, scenario)


def test_a_rotation_override_after_the_votes_does_not_make_an_approval_the_holders(
    ledger: Ledgers,
) -> None:
    base = session_of(ledger)
    now = utcnow()
    ledger.act_as("alice")  # reads the rotation's overrides on the ledger
    holder = holder_at(base.config, "on-call", now, rotation_source(base.config, base.audit_path))
    assert holder is not None
    ledger.add_members(holder)
    others = [m for m in MEMBERS if m != holder]
    policy = Policy("production", min_approvals=1, require_rotation_approval="on-call")
    session = session_of(
        ledger,
        policies={"production": policy},
        members=(*MEMBERS, *([holder] if holder not in MEMBERS else [])),
    )
    run(base, lambda: asyncio.sleep(0))

    async def scenario() -> None:
        ref = await ref_of(session, "auth", "production")
        opened = await as_(ledger, session, others[0]).propose(Kind.DEPLOY, ref, revision="v3.13.0")
        pid = opened.proposal.id
        voted = await as_(ledger, session, others[1]).vote(pid, True)
        assert voted.proposal.tally.rotation_missing
        # Anyone may put someone on the rotation, from the past on: others[1] now
        # "holds" it since before the proposal. Their approval stays a plain one.
        await override_rotation(
            as_(ledger, session, others[2]),
            "on-call",
            others[1],
            now - timedelta(hours=1),
            now + timedelta(hours=1),
            "swap for the afternoon",
        )
        source = rotation_source(session.config, session.audit_path)
        assert holder_at(session.config, "on-call", now, source) == others[1]
        view = as_(ledger, session, others[2]).get(pid)
        assert view.state is State.OPEN and view.tally.rotation_holder == holder
        final = await as_(ledger, session, holder).vote(pid, True, confirmed_run=True)
        assert final.proposal.state is State.EXECUTED

    run(session, scenario)


def test_a_chosen_key_cannot_take_a_proposals_key_or_another_actions_outcome(
    ledger: Ledgers,
) -> None:
    session = session_of(ledger)

    async def scenario() -> None:
        ref = await ref_of(session, "web", "staging")
        me = as_(ledger, session, "alice")
        with pytest.raises(UsageError, match="belong to Quorum's proposals"):
            await me.deploy(ref, "x", key="proposal-1")
        first = await me.deploy(ref, "v1.0.1", key="ci-7")
        assert first.ok
        with pytest.raises(PolicyRefused, match="key ci-7 was used for another action"):
            await me.deploy(ref, "v9.9.9", key="ci-7")
        assert await revision_of(session, "web", "staging") == "v1.0.1"
        again = await me.deploy(ref, "v1.0.1", key="ci-7")
        assert again.replayed and again.ok

    run(session, scenario)


def test_an_amendment_tells_the_team_whose_votes_it_voided(
    ledger: Ledgers, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    monkeypatch.setenv("QUORUM_TEST_HOOK", httpserver.url_for("/hook"))
    session = session_of(ledger, notify=(NotifyConfig(kind="webhook", url_env="QUORUM_TEST_HOOK"),))

    async def scenario() -> None:
        ref = await ref_of(session, "api", "production")
        opened = await as_(ledger, session, "alice").propose(Kind.DEPLOY, ref, revision="v2.0.0")
        await as_(ledger, session, "bob").vote(opened.proposal.id, True)
        await as_(ledger, session, "alice").amend(opened.proposal.id, "v2.0.1")

    run(session, scenario)
    bodies = [json.loads(req.get_data()) for req, _ in httpserver.log]
    (amended,) = [b for b in bodies if "amended" in b["title"]]
    assert amended["title"] == "Proposal 1 amended: deploy api@production to v2.0.1"
    assert "the votes of bob were for the earlier revision and no longer count" in (amended["text"])


def test_the_certificate_of_an_executed_proposal_is_printed(
    ledger: Ledgers, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = '[[providers]]\nname = "sim"\nkind = "sandbox"\nplatform = "kubernetes"\n'
    config = str(ledger.config(approvals=2, more=sandbox))

    def as_member(name: str) -> None:
        monkeypatch.setenv("QUORUM_ACT_AS", name)
        ledger.act_as(name)

    as_member("alice")
    assert (
        main(["--config", config, "deploy", "api", "--env", "production", "--revision", "v3"]) == 3
    )
    assert main(["--config", config, "certificate", "1"]) == 3
    assert "proposal 1 is open: no consensus to certify" in capsys.readouterr().err
    for voter in ("bob", "carol"):
        as_member(voter)
        assert main(["--config", config, "vote", "1", "approve"]) == 0
    capsys.readouterr()
    assert main(["--config", config, "certificate", "1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["format"] == "quorum-certificate/1"
    assert doc["proposal"]["revision"] == "v3" and doc["summary"]["state"] == "executed"
    assert [v["voter"] for v in doc["votes"]] == ["bob", "carol"]
    assert main(["--config", config, "certificate", "7"]) == 2
