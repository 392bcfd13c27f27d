"""The console's status line says what the votes prove; its start reports a rebuilt log."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from console.app import QuorumApp
from console.engine.audit_watch import check_and_note
from console.engine.signing_state import signing_badge
from console.store.audit import AuditLog
from tests.app_support import (
    NOW,
    FakeProvider,
    make_session,
    screen_lines,
    settle,
    standard_targets,
)
from tests.paths import FORGER
from tests.signing_support import SshTeam, start_team
from widgets.base.chrome import ProviderStatus


@pytest.fixture
def team(tmp_path: Path) -> Iterator[SshTeam]:
    yield from start_team(tmp_path / "keys", ("me", "alice"))


def _status(app: QuorumApp) -> str:
    return str(app.screen_stack[0].query_one(ProviderStatus).render())


async def test_an_unsigned_team_is_told_so_on_the_status_line_even_at_80_columns(
    tmp_path: Path,
) -> None:
    session = make_session(tmp_path / "data", [FakeProvider("alpha", standard_targets(), tmp_path)])
    app = QuorumApp(session, now=lambda: NOW, poll_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: "live" in _status(app))
        status = _status(app)
        assert status.startswith(" votes unsigned ·")
        assert "✓ 1 provider live" in status


async def test_a_status_line_longer_than_the_terminal_is_cut_not_wrapped(tmp_path: Path) -> None:
    """At 80 columns a stale ledger's line is one row ending in an ellipsis: the panes
    keep their rows (the toast and :messages hold the whole reason)."""
    session = make_session(tmp_path / "data", [FakeProvider("alpha", standard_targets(), tmp_path)])
    app = QuorumApp(session, now=lambda: NOW, poll_interval=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: "live" in _status(app))
        status = app.screen_stack[0].query_one(ProviderStatus)
        reason = "connection refused (db.example.internal:5432) " * 3
        status.show([], NOW, ledger="votes unsigned", ledger_stale=reason)
        await settle(pilot, lambda: any("ledger stale" in line for line in screen_lines(app)))
        (line,) = [line for line in screen_lines(app) if "ledger stale" in line]
        assert line.rstrip().endswith("…") and status.size.height == 1


def test_a_signed_team_names_how_many_members_have_no_key(team: SshTeam, tmp_path: Path) -> None:
    config = make_session(tmp_path / "data", []).config  # members: me, alice, bob
    bob_keyless = replace(config, signers=team.allowed())
    assert signing_badge(bob_keyless) == "votes signed, 1 member keyless"
    everyone = replace(config, members=("me", "alice"), signers=team.allowed())
    assert signing_badge(everyone) == "votes signed"


async def test_the_console_start_reports_an_audit_log_rebuilt_since_this_account_saw_it(
    tmp_path: Path,
) -> None:
    session = make_session(tmp_path / "data", [FakeProvider("alpha", standard_targets(), tmp_path)])
    with AuditLog(session.audit_path) as log:
        for who in ("me", "alice", "bob"):
            log.append(who=who, action="vote", target="api", comment=f"by {who}")
    assert check_and_note(session.audit_path) is None  # this account saw record 3
    subprocess.run(
        [sys.executable, str(FORGER), str(session.audit_path), "delete-audit", "3"], check=True
    )
    app = QuorumApp(session, now=lambda: NOW, poll_interval=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: any("truncated or rebuilt" in n for n in app.notices))
        assert app.is_running  # the console carries on, with the warning shown
