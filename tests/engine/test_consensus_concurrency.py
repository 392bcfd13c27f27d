"""8 processes voting through the command line on one ledger at once (the SQLite file, or
a PostgreSQL ledger where each voter logs in as their own role), and the same changes
proposed at once by four processes.

On PostgreSQL every command logs in anew (a scram handshake per connection), so the
voters there vote on 40 proposals each rather than 100: 320 concurrent votes still."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.config.load import load_config
from console.domain.acts import ProposalAct
from console.domain.consensus import Kind, Proposal, State
from console.domain.derive import Signed, content_at
from console.domain.model import TargetRef
from console.store.backends import proposal_stores
from tests.paths import ROOT
from tests.pg_support import Ledgers

VOTERS = [f"voter{i}" for i in range(8)]
PROPOSALS = {"sqlite": 100, "postgres": 40}
SANDBOX = '[[providers]]\nname = "sim"\nkind = "sandbox"\nplatform = "kubernetes"\n'

WORKER = textwrap.dedent(
    """
    import sys
    from console.cli.main import main
    voter, config, proposals = sys.argv[1], sys.argv[2], int(sys.argv[3])
    index = int(voter.removeprefix("voter"))
    failures = 0
    for pid in range(1, proposals + 1):
        choice = "reject" if (index + pid) % 4 == 0 else "approve"
        failures += main(["--config", config, "vote", str(pid), choice]) != 0
    sys.exit(failures)
    """
)


def expected_choice(voter: str, pid: int) -> bool:
    return (int(voter.removeprefix("voter")) + pid) % 4 != 0


def test_concurrent_votes_all_land(ledgers: Ledgers, tmp_path: Path) -> None:
    count = PROPOSALS["postgres" if ledgers.on_postgres else "sqlite"]
    ledgers.add_members(*VOTERS, "pat")
    members = ", ".join(f'"{m}"' for m in [*VOTERS, "pat", *(f"extra{i}" for i in range(30))])
    config = tmp_path / "quorum.toml"
    config.write_text(
        f'[team]\nname = "load"\nmembers = [{members}]\n{ledgers.ledger_lines()}'
        "[policy.production]\nmin_approvals = 30\nblock_on_rejections = 9\n"
    )
    team = ledgers.initialise(load_config(config))  # the server counts with these policies
    ledgers.act_as("pat")
    store, acts = proposal_stores(team, ledgers.path)
    now = datetime.now(UTC)
    for i in range(count):
        draft = Proposal(
            id=0,
            kind=Kind.DEPLOY,
            ref=TargetRef("k8s", f"svc{i}", "production", f"deployment/svc{i}"),
            revision="v2",
            proposer="pat",
            reason="load test",
            created_at=now,
            updated_at=now,
        )
        with store.writing():
            created = store.insert(draft)
            acts.add(Signed(ProposalAct(content_at(created), "pat", "load test", now)))
    env = {
        "QUORUM_DATA_DIR": str(tmp_path / "data"),
        "QUORUM_STATE_DIR": str(tmp_path / "state"),
        "PATH": "/usr/bin:/bin",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, voter, str(config), str(count)],
            cwd=ROOT,
            env={**env, **ledgers.env(voter)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for voter in VOTERS
    ]
    errors = [p.communicate(timeout=240)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * len(VOTERS), errors

    proposals = store.list()
    assert len(proposals) == count
    for p in proposals:
        assert p.state is State.OPEN
    facts = acts.facts([p.id for p in proposals])
    for p in proposals:
        assert {v.act.voter: v.act.approve for v in facts[p.id].votes} == {
            voter: expected_choice(voter, p.id) for voter in VOTERS
        }
    store.close()

    with ledgers.log("pat") as log:
        votes = [r for r in log.since(0) if r.action == "vote"]
        assert len(votes) == len(VOTERS) * count
        assert {(r.who, r.key, r.outcome) for r in votes} == {
            (v, f"proposal-{pid}", "approve" if expected_choice(v, pid) else "reject")
            for v in VOTERS
            for pid in range(1, count + 1)
        }
        result = log.verify()
    assert result.ok and result.checked == len(VOTERS) * count, result.reason


PROPOSER = textwrap.dedent(
    """
    import sys
    from console.cli.main import main
    changes = [(s, r) for s in ("api", "auth", "web") for r in ("v9.1", "v9.2", "v9.3")]
    if int(sys.argv[1]) % 2:
        changes.reverse()
    codes = [
        main(["--config", sys.argv[2], "propose", "deploy", s, "--env", "production",
              "--revision", r])
        for s, r in changes
    ]
    print(" ".join(map(str, codes)))  # the last line, after what each command printed
    """
)


def test_the_same_changes_proposed_at_once_by_four_processes_open_once_each(
    ledgers: Ledgers,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from console.cli.main import main

    config = ledgers.config(approvals=2, more=SANDBOX)
    env = {
        "QUORUM_DATA_DIR": str(tmp_path / "data"),
        "QUORUM_STATE_DIR": str(tmp_path / "state"),
        "QUORUM_SANDBOX_TEAMMATES": "off",
        "PATH": "/usr/bin:/bin",
    }
    proposers = ["alice", "bob", "carol", "alice"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PROPOSER, str(i), str(config)],
            cwd=ROOT,
            env={**env, **ledgers.env(who)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, who in enumerate(proposers)
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outputs]
    codes = [int(c) for out, _ in outputs for c in out.splitlines()[-1].split()]
    assert sorted(set(codes)) == [0, 3]  # opened, or pointed to the one already open
    assert codes.count(0) == 9
    for name, value in {**env, **ledgers.env("carol")}.items():
        monkeypatch.setenv(name, value)
    assert main(["--config", str(config), "approvals", "--json"]) == 0
    proposals = json.loads(capsys.readouterr().out)["proposals"]
    changes = sorted((p["service"], p["revision"]) for p in proposals)
    assert changes == [(s, r) for s in ("api", "auth", "web") for r in ("v9.1", "v9.2", "v9.3")]
