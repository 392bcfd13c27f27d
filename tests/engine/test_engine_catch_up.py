"""A session's catch-up runs what a crash left owed; reading commands never execute anything."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

import pytest

from console.cli.main import main
from console.domain.acts import ProposalAct
from console.domain.consensus import Kind, Proposal, State
from console.domain.derive import content_at
from console.domain.identity import Identity
from console.domain.names import current_user
from console.engine.actions import Actions
from console.engine.catch_up import catch_up
from console.engine.session import Session, open_session
from console.engine.targets import resolve_target
from console.store.claims import Claim

ME = current_user()


@pytest.fixture(autouse=True)
def quiet_teammates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")


def sandbox(readonly: bool = False) -> Session:
    return open_session(argparse.Namespace(config=None, sandbox=True, readonly=readonly))


def approved_while_nobody_ran(session: Session, revision: str) -> int:
    """A proposal the quorum approved five minutes ago whose approver died before running it:
    approved in the ledger, never claimed."""

    async def ref() -> object:
        try:
            return (await resolve_target(session, "auth", "staging")).ref
        finally:
            await session.close()

    target = asyncio.run(ref())
    actions = Actions(session, identity=Identity("alice", ME))
    then = actions.clock() - timedelta(minutes=5)
    draft = Proposal(0, Kind.DEPLOY, target, revision, "alice", "", then, then)  # type: ignore[arg-type]
    try:
        # Staging needs no votes: the proposal act alone approves it.
        made = actions.ledger.propose(
            draft, lambda row: ProposalAct(content_at(row), "alice", "", then)
        )
        assert made.proposal.state is State.APPROVED
        return made.proposal.id
    finally:
        actions.close()


def state_of(session: Session, pid: int) -> State:
    """The state the proposal's acts make it (the cached row is not believed)."""
    actions = Actions(session)
    try:
        return actions.get(pid).state
    finally:
        actions.close()


def test_a_console_session_executes_a_proposal_approved_while_no_command_ran() -> None:
    pid = approved_while_nobody_ran(sandbox(), "v3.77.0")
    session = sandbox()

    async def console_start() -> None:
        actions = Actions(session, identity=Identity(ME, ME))
        try:
            done = await catch_up(actions)
            assert [(o.key, o.ok) for o in done.ran] == [(f"proposal-{pid}", True)]
            detail = done.ran[0].detail
            assert done.lines() == [
                f"approved earlier, ran now as {ME}: deploy finished: {detail} (key proposal-{pid})"
            ]
            assert (await catch_up(actions)).ran == []  # claimed once, never twice
            target = await resolve_target(session, "auth", "staging")
            assert target.revision == "v3.77.0"
        finally:
            actions.close()
            await session.close()

    asyncio.run(console_start())
    assert state_of(session, pid) is State.EXECUTED


def test_a_read_only_session_catches_up_on_nothing() -> None:
    pid = approved_while_nobody_ran(sandbox(), "v3.78.0")
    session = sandbox(readonly=True)

    async def look() -> None:
        actions = Actions(session)
        try:
            done = await catch_up(actions)
            assert (done.votes, done.ran, done.incomplete) == ([], [], [])
        finally:
            actions.close()
            await session.close()

    asyncio.run(look())
    assert state_of(session, pid) is State.APPROVED


@pytest.mark.parametrize(
    "argv",
    [
        ["approvals"],
        ["approvals", "--json"],
        ["actions", "incomplete"],
        ["status"],
        ["audit", "tail"],
        ["rotation", "swap", "list"],
    ],
)
def test_reading_commands_never_execute_an_approved_proposal(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    session = sandbox()
    pid = approved_while_nobody_ran(session, "v3.79.0")
    assert main(["--sandbox", *argv]) == 0
    assert "ran now" not in capsys.readouterr().err
    assert state_of(session, pid) is State.APPROVED


def test_a_mutating_command_catches_up_first(capsys: pytest.CaptureFixture[str]) -> None:
    session = sandbox()
    pid = approved_while_nobody_ran(session, "v3.80.0")
    argv = ["--sandbox", "propose", "deploy", "web", "--env", "production", "--revision", "v9"]
    assert main(argv) == 0
    assert f"approved earlier, ran now as {ME}: deploy finished" in capsys.readouterr().err
    assert state_of(session, pid) is State.EXECUTED


def test_catch_up_lists_actions_that_never_finished_without_running_them() -> None:
    session = sandbox()

    async def scenario() -> None:
        actions = Actions(session, identity=Identity(ME, ME))
        try:
            ref = (await resolve_target(session, "web", "staging")).ref
            started = Claim("ci-9", "deploy", ME, ref, "v9", None, actions.clock())
            assert await actions.in_worker(lambda: actions.claims.claim(started)) is None
            done = await catch_up(actions)
            assert [c.key for c in done.incomplete] == ["ci-9"]
            assert done.ran == [] and done.lines() == []
        finally:
            actions.close()
            await session.close()

    asyncio.run(scenario())
