"""A team that only uses the console catches up too: a proposal approved while no
command ran (its approver died before running it) is executed by a console session."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from console.app import QuorumApp
from console.domain.acts import ProposalAct
from console.domain.consensus import Kind, Proposal, State
from console.domain.derive import content_at
from console.domain.identity import Identity
from console.domain.model import TargetRef
from console.engine.actions import Actions
from console.engine.session import Session
from tests.app_support import NOW, FakeProvider, make_session, settle, standard_targets


class DeployingProvider(FakeProvider):
    """Deploys by changing the target's revision, as a backend would."""

    async def deploy(self, target: TargetRef, revision: str) -> str:
        self.set(target.service, target.environment, revision=revision)
        return f"{target.service} now runs {revision}"


def _state(session: Session, pid: int) -> State:
    """The state the proposal's acts make it (the cached row is not believed)."""
    actions = Actions(session, clock=lambda: NOW)
    try:
        return actions.get(pid).state
    finally:
        actions.close()


async def test_a_console_runs_a_proposal_approved_while_no_command_ran(tmp_path: Path) -> None:
    provider = DeployingProvider("alpha", standard_targets(), tmp_path)
    session = make_session(tmp_path / "data", [provider])
    ref = next(t.ref for t in provider.targets if t.ref.key == "alpha/api/staging")
    then = NOW - timedelta(minutes=5)
    # Proposed (staging needs no votes: approved at once) by a process that died before
    # it executed: the proposal's act is stored, the claim never made.
    alice = Actions(session, identity=Identity("alice", "alice"), clock=lambda: NOW)
    draft = Proposal(0, Kind.DEPLOY, ref, "v9.9", "alice", "", then, then)
    pid = alice.ledger.propose(
        draft, lambda row: ProposalAct(content_at(row), "alice", "", then)
    ).proposal.id
    alice.close()
    app = QuorumApp(session, now=lambda: NOW, poll_interval=0.2, side_interval=0.3)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: _state(session, pid) is State.EXECUTED)
        await settle(pilot, lambda: app.services.table.cells(ref.key)[3] == "v9.9")
        await settle(pilot, lambda: any("approved earlier, ran now" in m for m in app.notices))
