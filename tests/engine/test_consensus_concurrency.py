"""8 processes × 100 votes through the command line on one database file."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from console.domain.acts import ProposalAct
from console.domain.consensus import Kind, Proposal, State
from console.domain.derive import Signed, content_at
from console.domain.model import TargetRef
from console.store.acts import ActStore
from console.store.audit import AuditLog
from console.store.proposals import ProposalStore
from tests.paths import ROOT

VOTERS = [f"voter{i}" for i in range(8)]
PROPOSALS = 100

WORKER = textwrap.dedent(
    """
    import os, sys
    from console.cli.main import main
    voter, config = sys.argv[1], sys.argv[2]
    os.environ["QUORUM_ACT_AS"] = voter
    index = int(voter.removeprefix("voter"))
    failures = 0
    for pid in range(1, {n} + 1):
        choice = "reject" if (index + pid) % 4 == 0 else "approve"
        failures += main(["--config", config, "vote", str(pid), choice]) != 0
    sys.exit(failures)
    """
).format(n=PROPOSALS)


def expected_choice(voter: str, pid: int) -> bool:
    return (int(voter.removeprefix("voter")) + pid) % 4 != 0


def test_concurrent_votes_all_land(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    members = ", ".join(f'"{m}"' for m in [*VOTERS, "pat", *(f"extra{i}" for i in range(30))])
    config = tmp_path / "quorum.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [team]
            name = "load"
            members = [{members}]

            [audit]
            path = "{db}"

            [policy.production]
            min_approvals = 30
            block_on_rejections = 9
            """
        )
    )
    store = ProposalStore(db)
    acts = ActStore(store)
    now = datetime.now(UTC)
    for i in range(PROPOSALS):
        created = store.create(
            Proposal(
                id=0,
                kind=Kind.DEPLOY,
                ref=TargetRef("k8s", f"svc{i}", "production", f"deployment/svc{i}"),
                revision="v2",
                proposer="pat",
                reason="load test",
                created_at=now,
                updated_at=now,
            )
        )
        acts.add(Signed(ProposalAct(content_at(created), "pat", "load test", now)))
    env = {
        "QUORUM_DATA_DIR": str(tmp_path / "data"),
        "QUORUM_STATE_DIR": str(tmp_path / "state"),
        "PATH": "/usr/bin:/bin",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, voter, str(config)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for voter in VOTERS
    ]
    errors = [p.communicate(timeout=240)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * len(VOTERS), errors

    proposals = store.list()
    assert len(proposals) == PROPOSALS
    for p in proposals:
        assert p.state is State.OPEN
        assert {v.voter: v.approve for v in p.votes} == {
            voter: expected_choice(voter, p.id) for voter in VOTERS
        }
    store.close()

    log = AuditLog(db)
    votes = [r for r in log.since(0) if r.action == "vote"]
    assert len(votes) == len(VOTERS) * PROPOSALS
    assert {(r.who, r.key, r.outcome) for r in votes} == {
        (v, f"proposal-{pid}", "approve" if expected_choice(v, pid) else "reject")
        for v in VOTERS
        for pid in range(1, PROPOSALS + 1)
    }
    result = log.verify()
    assert result.ok and result.checked == len(VOTERS) * PROPOSALS, result.reason
    log.close()


PROPOSER = textwrap.dedent(
    """
    import sys
    from console.cli.main import main
    changes = [(s, r) for s in ("api", "auth", "search") for r in ("v9.1", "v9.2", "v9.3")]
    if int(sys.argv[1]) % 2:
        changes.reverse()
    codes = [
        main(["--sandbox", "propose", "deploy", s, "--env", "production", "--revision", r])
        for s, r in changes
    ]
    print(" ".join(map(str, codes)))  # the last line, after what each command printed
    """
)


def test_the_same_changes_proposed_at_once_by_four_processes_open_once_each(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    from console.cli.main import main

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
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outputs]
    codes = [int(c) for out, _ in outputs for c in out.splitlines()[-1].split()]
    assert sorted(set(codes)) == [0, 3]  # opened, or pointed to the one already open
    assert codes.count(0) == 9
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["--sandbox", "approvals", "--json"]) == 0
    proposals = json.loads(capsys.readouterr().out)["proposals"]
    changes = sorted((p["service"], p["revision"]) for p in proposals)
    assert changes == [(s, r) for s in ("api", "auth", "search") for r in ("v9.1", "v9.2", "v9.3")]
