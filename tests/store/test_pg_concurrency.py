"""Three members voting from four processes each on twenty proposals at once: every
vote recorded once, under its voter's name, counted alike by server and clients, and
the audit chain unbroken."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime

import pytest

from console.domain.acts import Content, ProposalAct
from console.domain.consensus import Kind
from console.domain.derive import derive
from console.domain.model import TargetRef
from console.domain.settings import LedgerConfig, Policy
from console.store.acts import body
from console.store.postgres.audit import PgAuditLog
from console.store.postgres.proposals import PgActStore, PgProposalStore
from tests.paths import ROOT
from tests.pg_support import MEMBERS, PgServer, connect_as, initialised

PROPOSALS, PROCESSES, VOTES = 20, 4, 50
REF = TargetRef("k8s", "api", "production", "deployment/api")

VOTER = """
import sys
from datetime import UTC, datetime
from console.domain.acts import VoteAct
from console.domain.derive import Signed
from console.domain.settings import LedgerConfig
from console.store.postgres.audit import PgAuditLog
from console.store.postgres.proposals import PgActStore, PgProposalStore
url, me, index, votes, proposals = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
ledger = LedgerConfig(url=url)
with PgProposalStore(ledger) as store, PgAuditLog(ledger) as log:
    acts = PgActStore(store)
    for k in range(votes):
        pid = (index * votes + k) % proposals + 1
        approve = k % 3 != 0
        with store.writing():
            acts.add(Signed(VoteAct(pid, 1, me, approve, datetime.now(UTC))))
        log.append(action="vote", target=str(pid), outcome="approve" if approve else "reject")
"""


def test_votes_from_twelve_processes_are_each_recorded_once_and_counted_alike(
    pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = initialised(pg_server, "concurrency")
    url = f"postgresql://127.0.0.1:{pg_server.port}/{database}"
    with connect_as(pg_server, "carol", database) as carol:
        for _ in range(PROPOSALS):
            with carol.transaction():
                (pid,) = carol.execute("SELECT quorum.next_proposal_id()").fetchone() or (0,)
                at = datetime.now(UTC)
                act = ProposalAct(Content(pid, 1, Kind.DEPLOY, REF, "v2", None), "carol", "r", at)
                carol.execute(
                    "SELECT quorum.propose(%s, 'deploy', 'k8s', 'api', 'production', "
                    "'deployment/api', 'v2', NULL, 'r', %s, %s, '')",
                    (pid, at, json.dumps(body(act))),
                )
    running = [
        subprocess.Popen(
            [sys.executable, "-c", VOTER, url, role, str(i), str(VOTES), str(PROPOSALS)],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", **pg_server.env(role)},
            stderr=subprocess.PIPE,
            text=True,
        )
        for role in MEMBERS
        for i in range(PROCESSES)
    ]
    for process in running:
        assert process.wait(timeout=240) == 0, process.stderr.read() if process.stderr else ""

    ledger = LedgerConfig(url=url)
    with connect_as(pg_server, "bob", database) as bob:
        votes = bob.execute(
            "SELECT author, count(*) FROM quorum.proposal_acts WHERE kind = 'vote' GROUP BY 1"
        ).fetchall()
        server = dict(
            bob.execute(
                "SELECT id, quorum.proposal_state(id, %s) FROM quorum.proposals",
                (datetime.now(UTC),),
            ).fetchall()
        )
    assert dict(votes) == {role: PROCESSES * VOTES for role in MEMBERS}
    for key, value in pg_server.env("bob").items():
        monkeypatch.setenv(key, value)
    with PgProposalStore(ledger) as store, PgAuditLog(ledger) as log:
        facts = PgActStore(store).facts(range(1, PROPOSALS + 1))
        result = log.verify()
        authors = Counter(r.who for r in log.tail(10_000))
    policy = Policy.default_for("production")
    now = datetime.now(UTC)
    clients = {
        pid: derive(f, policy, now, verify=None, members=frozenset(MEMBERS)).proposal.state.value
        for pid, f in facts.items()
    }
    assert clients == server
    assert set(server.values()) <= {"approved", "blocked"}
    assert (result.ok, result.checked) == (True, len(MEMBERS) * PROCESSES * VOTES)
    assert authors == {role: PROCESSES * VOTES for role in MEMBERS}
