"""`quorum ledger import`: a SQLite ledger's history carried into PostgreSQL, verified
first, the chain continuing from the file's head."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.cli.main import main
from console.config.load import load_config
from console.domain import gates
from console.domain.derive import Signed
from console.domain.settings import LedgerConfig
from console.store.audit import AuditLog
from console.store.gates import GateStore
from console.store.postgres.gates import PgGateStore
from console.store.postgres.rotation import PgRotationStore
from console.store.rotation import Override, RotationStore, Swap, new_id
from tests.pg_support import OWNER, PgServer, connect_as, initialised

TEAM = (
    '[team]\nmembers = ["alice", "bob", "carol"]\n[policy.production]\nmin_approvals = 2\n'
    '[[providers]]\nname = "sim"\nkind = "sandbox"\nplatform = "kubernetes"\n'
)

ROTATION = """
[[rotation]]
name = "primary"
every = "week"
members = ["alice"]
start = 2026-01-05
handoff = "09:00"
timezone = "UTC"
"""


@pytest.fixture(autouse=True)
def quiet_teammates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def sqlite_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A team's SQLite ledger: one production deploy approved by two and run, then 1,000
    more audit records."""
    audit = tmp_path / "team" / "audit.db"
    config = tmp_path / "sqlite.toml"
    config.write_text(TEAM + f'[audit]\npath = "{audit}"\n')
    for who, argv in (
        ("alice", ("deploy", "api", "--env", "production", "--revision", "v3.0.0")),
        ("bob", ("vote", "1", "approve")),
        ("carol", ("vote", "1", "approve")),
    ):
        monkeypatch.setenv("QUORUM_ACT_AS", who)
        run(capsys, *argv, "--config", str(config))
    monkeypatch.delenv("QUORUM_ACT_AS")
    with AuditLog(audit, signer=None) as log:
        for n in range(1000):
            log.append(who="alice", action="note", comment=f"record {n}")
    return audit


def pg_config(tmp_path: Path, server: PgServer, database: str) -> Path:
    config = tmp_path / "pg.toml"
    url = f"postgresql://127.0.0.1:{server.port}/{database}"
    config.write_text(TEAM + f'[ledger]\nurl = "{url}"\n')
    return config


def as_role(server: PgServer, monkeypatch: pytest.MonkeyPatch, role: str) -> None:
    for key, value in server.env(role).items():
        monkeypatch.setenv(key, value)


def test_the_whole_history_arrives_and_the_chain_goes_on_from_the_files_head(
    pg_server: PgServer,
    sqlite_ledger: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with AuditLog(sqlite_ledger, signer=None) as log:
        seq, digest = log.head()
        before = [r.to_json() for r in log.tail(seq)]
    config = pg_config(tmp_path, pg_server, initialised(pg_server, "imported"))
    as_role(pg_server, monkeypatch, OWNER)
    code, out, err = run(capsys, "ledger", "import", str(sqlite_ledger), "--config", str(config))
    assert (code, err) == (0, "")
    assert out.startswith(f"imported {sqlite_ledger}: 1 proposals, 3 signed acts, 1 action ")
    assert f"continues from record {seq} ({digest})" in out

    as_role(pg_server, monkeypatch, "bob")
    code, out, _ = run(capsys, "audit", "verify", "--head", digest, "--config", str(config))
    assert (code, out) == (0, f"ok: {seq} records, chain intact\n")
    code, _, err = run(capsys, "vote", "1", "approve", "--config", str(config))
    assert code == 3
    assert "it is executed" in err  # derived from the imported acts and claim
    with connect_as(pg_server, "bob", "imported") as bob:
        state = bob.execute("SELECT quorum.proposal_state(1)").fetchone()
        after = bob.execute("SELECT seq, hash FROM quorum.audit_log ORDER BY seq").fetchall()
    assert state == ("executed",)
    assert after[: len(before)] == [(r["seq"], r["hash"]) for r in before]
    assert after[-1][0] == seq + 1  # the refused vote's record, chained to the file's head

    as_role(pg_server, monkeypatch, OWNER)
    code, _, err = run(capsys, "ledger", "import", str(sqlite_ledger), "--config", str(config))
    assert code == 2
    assert "the PostgreSQL ledger is not empty" in err


def test_a_file_whose_chain_is_broken_is_not_imported(
    pg_server: PgServer,
    sqlite_ledger: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with sqlite3.connect(sqlite_ledger) as db:
        db.execute("DROP TRIGGER audit_log_no_update")
        db.execute("UPDATE audit_log SET comment = 'rewritten' WHERE seq = 500")
    config = pg_config(tmp_path, pg_server, initialised(pg_server, "refused_import"))
    as_role(pg_server, monkeypatch, OWNER)
    code, _, err = run(capsys, "ledger", "import", str(sqlite_ledger), "--config", str(config))
    assert code == 1
    assert "record 500: hash mismatch (edited)); nothing was imported" in err
    with connect_as(pg_server, OWNER, "refused_import") as owner:
        assert owner.execute("SELECT count(*) FROM quorum.audit_log").fetchone() == (0,)


def test_rotation_changes_and_gate_votes_arrive_too(
    pg_server: PgServer,
    sqlite_ledger: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    hour = timedelta(hours=1)
    cover = Override(new_id(), "primary", "carol", now - hour, now + timedelta(days=1),
                     "alice is away", "bob", now - hour)  # fmt: skip
    offered = Swap(new_id(), "primary", "carol", now + timedelta(hours=2),
                   now + timedelta(hours=4), "", now)  # fmt: skip
    handoff = datetime(2026, 11, 30, 9, tzinfo=UTC)
    with RotationStore(sqlite_ledger) as schedule:
        schedule.insert_override(cover)
        schedule.insert_swap(offered)
        assert schedule.mark_taken(offered.id, "bob", now)
        assert schedule.claim_notice("primary", handoff, "alice", now)
    vote = gates.ballot("ci:301/production", "production", "alice", True, now, "looks right")
    with GateStore(sqlite_ledger) as held:
        held.cast(Signed(vote, "sshsig-of-alice"), lambda votes: None)
    config = pg_config(tmp_path, pg_server, initialised(pg_server, "imported_schedule"))
    config.write_text(config.read_text() + ROTATION)
    as_role(pg_server, monkeypatch, OWNER)
    code, out, err = run(capsys, "ledger", "import", str(sqlite_ledger), "--config", str(config))
    assert (code, err) == (0, "")
    assert "3 rotation changes and notices, 1 provider-approval votes" in out
    assert "not imported" not in out

    as_role(pg_server, monkeypatch, "alice")
    code, out, err = run(capsys, "rotation", "--json", "--config", str(config))
    assert code == 0, err
    (slot,) = json.loads(out)["rotations"]
    assert (slot["holder"], slot["override"]) == ("carol", True)
    with PgRotationStore(ledger_of(config)) as schedule:
        assert schedule.override(cover.id) == cover
        assert schedule.swap(offered.id) == replace(offered, taken_by="bob", taken_at=now)
        assert not schedule.claim_notice("primary", handoff, "alice", now)  # sent: not again
    with PgGateStore(ledger_of(config)) as held:
        assert held.votes("ci:301/production", "production") == (Signed(vote, "sshsig-of-alice"),)


def ledger_of(config: Path) -> LedgerConfig:
    return load_config(config).ledger or LedgerConfig()


def test_acts_of_someone_outside_the_team_are_carried_over_and_said_not_to_count(
    pg_server: PgServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file made under another name (the sandbox's, an account since renamed): its
    proposal arrives but reads as invalid on the team's ledger, which the import says
    rather than leaving `approvals` to show it gone."""
    audit = tmp_path / "trial" / "audit.db"
    config = tmp_path / "sqlite.toml"
    config.write_text(TEAM.replace('"carol"]', '"carol", "dave"]') + f'[audit]\npath = "{audit}"\n')
    monkeypatch.setenv("QUORUM_ACT_AS", "dave")
    run(capsys, "deploy", "api", "--env", "production", "--revision", "v3.0.0",
        "--config", str(config))  # fmt: skip
    monkeypatch.delenv("QUORUM_ACT_AS")
    target = pg_config(tmp_path, pg_server, initialised(pg_server, "imported_outsider"))
    as_role(pg_server, monkeypatch, OWNER)
    code, out, err = run(capsys, "ledger", "import", str(audit), "--config", str(target))
    assert code == 0, err
    assert out.startswith(f"imported {audit}: 1 proposals, 1 signed acts")
    assert err == (
        "warning: [team] members does not list dave: their 1 act was imported but does not "
        "count (a proposal of theirs reads as invalid)\n"
    )
