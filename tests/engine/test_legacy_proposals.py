"""Proposals an older Quorum made before it kept signed acts: shown as legacy, readable as
they were recorded, and never counted; a row inserted by hand later stays invalid.

The old ledger is written with raw SQL exactly as that version wrote it (its schema,
its "+00:00" timestamps, its stored states and vote rows)."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from console.cli.main import main
from console.domain.consensus import Kind, State
from console.domain.errors import PolicyRefused, UsageError
from console.domain.identity import Identity
from console.domain.names import current_user
from console.engine.actions import Actions
from console.engine.session import Session, open_session
from console.engine.targets import resolve_target

T = TypeVar("T")
MEMBERS = ("alice", "bob", "carol")

# The schema of the version that stored states and votes as plain rows.
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS proposals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    provider TEXT NOT NULL,
    service TEXT NOT NULL,
    environment TEXT NOT NULL,
    target TEXT NOT NULL,
    revision TEXT NOT NULL,
    replicas INTEGER,
    proposer TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    state TEXT NOT NULL,
    override_by TEXT NOT NULL DEFAULT '',
    override_reason TEXT NOT NULL DEFAULT '',
    override_at TEXT,
    reviewed_by TEXT NOT NULL DEFAULT '',
    reviewed_at TEXT,
    review_comment TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS proposals_state ON proposals(state);
CREATE TABLE IF NOT EXISTS proposal_votes (
    proposal_id INTEGER NOT NULL REFERENCES proposals(id),
    voter TEXT NOT NULL,
    approve INTEGER NOT NULL,
    at TEXT NOT NULL,
    revision TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (proposal_id, voter)
);
"""
COLUMNS = (
    "kind, provider, service, environment, target, revision, replicas, proposer, reason, "
    "created_at, updated_at, state"
)


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()  # the old code's form: "+00:00", no fixed width


def insert(
    conn: sqlite3.Connection, revision: str, state: str, votes: tuple[str, ...], env: str
) -> int:
    at = stamp(datetime.now(UTC) - timedelta(hours=1))
    row = ("deploy", "sandbox", "web", env, "deployment/web", revision, None, "alice",
           "release", at, at, state)  # fmt: skip
    cur = conn.execute(f"INSERT INTO proposals ({COLUMNS}) VALUES ({', '.join('?' * 12)})", row)
    pid = int(cur.lastrowid or 0)
    for voter in votes:
        conn.execute(
            "INSERT INTO proposal_votes (proposal_id, voter, approve, at, revision, comment) "
            "VALUES (?, ?, 1, ?, ?, '')",
            (pid, voter, at, revision),
        )
    return pid


def old_ledger(path: Path, env: str) -> tuple[int, int]:
    """An approved proposal that never ran and an open one, as the old code left them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(OLD_SCHEMA)
        approved = insert(conn, "v4.0.0", "approved", ("bob", "carol"), env)
        waiting = insert(conn, "v4.0.1", "open", ("bob",), env)
        conn.commit()
    return approved, waiting


def session() -> Session:
    opened = open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))
    opened.config = replace(opened.config, members=MEMBERS, simulated_teammates=())
    return opened


def run(s: Session, scenario: Callable[[], Awaitable[T]]) -> T:
    async def body() -> T:
        try:
            return await scenario()
        finally:
            await s.close()

    return asyncio.run(body())


def as_(s: Session, name: str) -> Actions:
    return Actions(s, identity=Identity(name, current_user()))


def test_an_old_ledgers_proposals_read_as_legacy_and_never_count() -> None:
    s = session()
    env = "production"
    legacy, waiting = old_ledger(s.audit_path, env)

    async def scenario() -> None:
        ref = (await resolve_target(s, "web", env)).ref
        before = (await resolve_target(s, "web", env)).revision
        alice, bob = as_(s, "alice"), as_(s, "bob")
        view = alice.get(legacy)
        assert view.state is State.LEGACY
        assert (view.proposal.revision, view.proposal.proposer) == ("v4.0.0", "alice")
        assert view.summary == (
            "legacy: made before Quorum signed its acts, unsigned; recorded as approved "
            "(bob approve, carol approve)"
        )
        assert [v.voter for v in view.proposal.votes] == ["bob", "carol"]  # kept readable
        as_json = view.to_json()
        assert (as_json["state"], as_json["approvals"]) == ("legacy", [])  # none counts
        # Nothing waits on them, nothing runs them, no vote or certificate takes them.
        assert [v.id for v in alice.open_proposals()] == []
        assert await alice.run_approved() == []
        with pytest.raises(PolicyRefused, match=f"proposal {waiting} was made before Quorum"):
            await bob.vote(waiting, True)
        with pytest.raises(PolicyRefused, match=f"proposal {legacy} is legacy: no consensus"):
            alice.certificate_of(legacy)
        assert (await resolve_target(s, "web", env)).revision == before
        # The same change proposed again is a new, signed-era proposal that counts.
        fresh = await alice.propose(Kind.DEPLOY, ref, revision="v4.0.0")
        assert fresh.proposal.id == waiting + 1
        await bob.vote(fresh.proposal.id, True)
        done = await as_(s, "carol").vote(fresh.proposal.id, True, confirmed_run=True)
        assert done.proposal.state is State.EXECUTED
        assert alice.get(legacy).state is State.LEGACY
        # A row written by hand into the proposals table now is no legacy: invalid.
        with closing(sqlite3.connect(s.audit_path)) as conn:
            forged = insert(conn, "v6.6.6", "approved", ("bob", "carol"), env)
            conn.commit()
        assert alice.get(forged).state is State.INVALID
        with pytest.raises(PolicyRefused, match="is invalid"):
            await bob.vote(forged, True)
        with pytest.raises(UsageError, match="no proposal 99"):
            alice.get(99)

    run(s, scenario)


def test_approvals_lists_no_legacy_proposal_as_waiting(capsys: pytest.CaptureFixture[str]) -> None:
    s = session()
    old_ledger(s.audit_path, "production")
    asyncio.run(s.close())
    assert main(["approvals", "--sandbox", "--json"]) == 0
    out = capsys.readouterr().out
    assert "v4.0.0" not in out and "legacy" not in out
