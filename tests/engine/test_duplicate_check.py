"""The same change is never opened twice, and checking costs only its own candidates:
a proposal derives the live proposals for the same change, not every open one."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from console.cli.main import main
from console.domain.consensus import Kind, Proposal, State
from console.domain.identity import Identity
from console.domain.model import TargetRef, utcnow
from console.domain.names import current_user
from console.engine.actions import Actions, AlreadyProposed
from console.engine.ledger import LIVE
from console.engine.session import open_session
from console.engine.targets import resolve_target
from console.store.acts import ActStore
from console.store.proposals import ProposalStore
from tests.paths import ROOT

ME = current_user()


@pytest.fixture(autouse=True)
def quiet_teammates(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")
    monkeypatch.setenv("QUORUM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QUORUM_STATE_DIR", str(tmp_path / "state"))


def _session() -> object:
    return open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))


def _derived_by(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the proposals whose acts are read from here on (each is derived)."""
    read: list[int] = []
    facts = ActStore.facts

    def recorded(store: ActStore, pids: object) -> dict:
        found = facts(store, pids)
        read.extend(found)
        return found

    monkeypatch.setattr(ActStore, "facts", recorded)
    return read


def test_a_proposal_derives_only_the_open_proposals_for_the_same_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = _session()

    async def scenario() -> None:
        me = Actions(session, identity=Identity(ME, ME))
        try:
            api = (await resolve_target(session, "api", "production")).ref
            auth = (await resolve_target(session, "auth", "production")).ref
            others = [(await me.propose(Kind.DEPLOY, api, revision=f"v{i}")).proposal.id
                      for i in range(12)]  # fmt: skip
            await me.propose(Kind.DEPLOY, auth, revision="v20")
            await me.propose(Kind.SCALE, api, replicas=3)
            gone = (await me.propose(Kind.DEPLOY, api, revision="v20")).proposal.id
            await me.withdraw(gone)

            read = _derived_by(monkeypatch)
            made = (await me.propose(Kind.DEPLOY, api, revision="v20")).proposal.id
            assert read == [made]  # the withdrawn one's row says so: not a candidate

            read.clear()
            with pytest.raises(AlreadyProposed) as refused:
                await me.propose(Kind.DEPLOY, api, revision="v20")
            assert refused.value.view.id == made
            assert made in read and not set(read) & set(others)

            read.clear()
            scaled = (await me.propose(Kind.SCALE, api, replicas=4)).proposal.id
            assert read == [scaled]  # scaling to 3 is another change
        finally:
            me.close()
            await session.close()

    asyncio.run(scenario())


def test_an_amended_proposal_is_the_twin_of_its_new_revision_only() -> None:
    session = _session()

    async def scenario() -> None:
        me = Actions(session, identity=Identity(ME, ME))
        try:
            api = (await resolve_target(session, "api", "production")).ref
            amended = (await me.propose(Kind.DEPLOY, api, revision="v1")).proposal.id
            await me.amend(amended, "v2")
            with pytest.raises(AlreadyProposed) as refused:
                await me.propose(Kind.DEPLOY, api, revision="v2")
            assert refused.value.view.id == amended
            again = (await me.propose(Kind.DEPLOY, api, revision="v1")).proposal
            assert again.id != amended and again.state is State.OPEN
        finally:
            me.close()
            await session.close()

    asyncio.run(scenario())


def test_a_row_that_says_open_is_no_twin_when_its_acts_withdrew_it() -> None:
    """The rows pick the candidates; what refuses is the state derived from the acts."""
    session = _session()

    async def scenario() -> None:
        me = Actions(session, identity=Identity(ME, ME))
        try:
            api = (await resolve_target(session, "api", "production")).ref
            gone = (await me.propose(Kind.DEPLOY, api, revision="v1")).proposal.id
            await me.withdraw(gone)
            with me.proposals.writing():
                me.proposals.conn.execute(
                    "UPDATE proposals SET state = 'open' WHERE id = ?", (gone,)
                )
            made = (await me.propose(Kind.DEPLOY, api, revision="v1")).proposal
            assert made.id != gone and made.state is State.OPEN
        finally:
            me.close()
            await session.close()

    asyncio.run(scenario())


# Each process says it is ready, waits for the word to go, then proposes both changes.
PROPOSER = textwrap.dedent(
    """
    import sys
    from console.cli.main import main
    print("ready", flush=True)
    sys.stdin.readline()
    revisions = ["v9.1", "v9.0"] if int(sys.argv[1]) % 2 else ["v9.0", "v9.1"]
    codes = {
        r: main(["--sandbox", "propose", "deploy", "api", "--env", "production", "--revision", r])
        for r in revisions
    }
    print(codes["v9.0"], codes["v9.1"])  # the last line, after what each command printed
    """
)


def test_processes_proposing_at_once_open_each_change_once_amended_twins_included(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for revision in ("v8", "v9.0-rc", "v10"):  # other open proposals on the same target
        assert main(["--sandbox", "propose", "deploy", "api", "--env", "production",
                     "--revision", revision]) == 0  # fmt: skip
    assert main(["--sandbox", "propose", "amend", "2", "--revision", "v9.1"]) == 0
    capsys.readouterr()
    env = {
        "QUORUM_DATA_DIR": str(tmp_path / "data"),
        "QUORUM_STATE_DIR": str(tmp_path / "state"),
        "QUORUM_SANDBOX_TEAMMATES": "off",
        "PATH": "/usr/bin:/bin",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PROPOSER, str(i)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    for p in procs:  # every one imported and waiting
        assert p.stdout is not None and p.stdout.readline() == "ready\n"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outputs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outputs]
    codes = [out.splitlines()[-1].split() for out, _ in outputs]
    assert sorted(c[0] for c in codes) == ["0", "3", "3", "3"]  # v9.0 opened once
    assert [c[1] for c in codes] == ["3"] * 4  # v9.1 is proposal 2, amended
    refusals = "".join(err for _, err in outputs)
    assert refusals.count("not proposed again: proposal 2 already proposes") == 4
    assert main(["--sandbox", "approvals", "--json"]) == 0
    proposals = json.loads(capsys.readouterr().out)["proposals"]
    assert sorted(p["revision"] for p in proposals) == ["v10", "v8", "v9.0", "v9.1"]


def test_the_check_looks_its_candidates_up_by_index_in_a_file_made_before_it(
    tmp_path: Path,
) -> None:
    """Thousands of open rows are not scanned at each proposal; an older file gains the
    index when a Quorum that has it opens the file."""
    path = tmp_path / "audit.db"
    store = ProposalStore(path)
    with store.writing():
        store.conn.execute("DROP INDEX proposals_change")
    store.close()

    store = ProposalStore(path)
    now = utcnow()
    ref = TargetRef("k8s", "api", "production")
    draft = Proposal(
        id=0, kind=Kind.DEPLOY, ref=ref, revision="v1", proposer=ME, reason="",
        created_at=now, updated_at=now,
    )  # fmt: skip
    made = store.create(draft)
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    assert store.twins(draft, LIVE) == [made.id]
    store.conn.set_trace_callback(None)
    (lookup,) = [s for s in statements if s.startswith("SELECT")]
    plan = " ".join(row[-1] for row in store.conn.execute(f"EXPLAIN QUERY PLAN {lookup}"))
    assert "USING INDEX proposals_change" in plan
    store.close()
