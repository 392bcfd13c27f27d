"""Every act, claim and audit record on the PostgreSQL ledger is announced on the
`quorum_ledger` channel in the transaction that writes it: what a console listens to
instead of polling the tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.pg_support import PgServer, connect_as, initialised


def test_a_vote_and_its_audit_record_are_announced_to_a_listener(pg_server: PgServer) -> None:
    database = initialised(pg_server, "notify")
    with (
        connect_as(pg_server, "bob", database) as bob,
        connect_as(pg_server, "alice", database) as alice,
    ):
        bob.execute("LISTEN quorum_ledger")
        with alice.transaction():
            (pid,) = alice.execute("SELECT quorum.next_proposal_id()").fetchone() or (0,)
            alice.execute(
                "SELECT quorum.propose(%s, 'deploy', 'k8s', 'api', 'production', "
                "'deployment/api', 'v2', NULL, 'r', %s, '{}', '')",
                (pid, datetime.now(UTC)),
            )
        vote = json.dumps({"approve": True, "comment": "", "version": 1})
        alice.execute(
            "SELECT quorum.add_act(%s, 'vote', %s, %s, '')", (pid, datetime.now(UTC), vote)
        )
        alice.execute("SELECT * FROM quorum.audit_append('vote', 'api', '', '', '', '', '', '')")
        heard = [n.payload for n in bob.notifies(timeout=30, stop_after=3)]
    assert heard == [f"proposal {pid}", f"vote {pid}", "audit 1"]
