"""`quorum audit` and `quorum whoami` on a PostgreSQL ledger: the same chain, checked the
same way, with the server naming each record's author."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from console.cli.main import main
from console.domain.settings import LedgerConfig
from console.store.audit import AuditRecord
from console.store.postgres.audit import PgAuditLog
from tests.ci_support import team_config
from tests.paths import ROOT
from tests.pg_support import MEMBERS, OWNER, PgServer, connect_as, initialised
from tests.signing_support import SoftKeys


@pytest.fixture
def database(pg_server: PgServer) -> str:
    return initialised(pg_server, "audit_cli")


@pytest.fixture
def config(pg_server: PgServer, database: str, tmp_path: Path) -> Path:
    body = f'[ledger]\nurl = "postgresql://127.0.0.1:{pg_server.port}/{database}"\n'
    return team_config(tmp_path, body, approvals=2)


class As:
    """Runs commands as one database role, through libpq's own variables."""

    def __init__(self, server: PgServer, monkeypatch: pytest.MonkeyPatch) -> None:
        self.server, self.monkeypatch = server, monkeypatch

    def __call__(self, role: str) -> None:
        for key, value in self.server.env(role).items():
            self.monkeypatch.setenv(key, value)


@pytest.fixture
def as_role(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> As:
    return As(pg_server, monkeypatch)


def quorum(capsys: pytest.CaptureFixture[str], config: Path, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--config", str(config)])
    out = capsys.readouterr()
    return code, out.out, out.err


def ledger_of(pg_server: PgServer, database: str) -> LedgerConfig:
    return LedgerConfig(url=f"postgresql://127.0.0.1:{pg_server.port}/{database}")


def test_records_by_three_members_verify_tail_and_export_as_on_sqlite(
    pg_server: PgServer,
    database: str,
    config: Path,
    as_role: As,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for role in MEMBERS:
        as_role(role)
        with PgAuditLog(ledger_of(pg_server, database)) as log:
            record = log.append(who="someone-else", action="vote", target="api", comment="ok ✓")
        assert record.who == role  # the server's session user, not the client's word
    as_role("carol")
    assert quorum(capsys, config, "audit", "verify")[:2] == (0, "ok: 3 records, chain intact\n")
    code, out, _ = quorum(capsys, config, "audit", "tail", "--json")
    assert [r["who"] for r in json.loads(out)] == list(MEMBERS)
    code, out, _ = quorum(capsys, config, "audit", "export")
    records = [AuditRecord.from_json(json.loads(line)) for line in out.splitlines()]
    assert [r.expected_hash() for r in records] == [r.hash for r in records]
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]


def test_verify_names_the_record_the_owner_edited_behind_the_triggers(
    pg_server: PgServer,
    database: str,
    config: Path,
    as_role: As,
    capsys: pytest.CaptureFixture[str],
) -> None:
    as_role("alice")
    with PgAuditLog(ledger_of(pg_server, database)) as log:
        for n in range(4):
            log.append(action="vote", comment=f"record {n + 1}")
    assert quorum(capsys, config, "audit", "verify")[0] == 0
    with connect_as(pg_server, OWNER, database) as owner:
        owner.execute("ALTER TABLE quorum.audit_log DISABLE TRIGGER audit_log_append_only")
        owner.execute("UPDATE quorum.audit_log SET comment = 'rewritten' WHERE seq = 2")
    code, out, _ = quorum(capsys, config, "audit", "verify")
    assert code == 1
    assert out == "failed: record 2: hash mismatch (edited) (1 records intact before it)\n"


def test_signed_records_verify_against_the_members_keys(
    pg_server: PgServer, database: str, as_role: As
) -> None:
    keys = SoftKeys(MEMBERS)
    ledger = ledger_of(pg_server, database)
    for role in ("alice", "bob"):
        as_role(role)
        with PgAuditLog(ledger, signer=lambda m, r=role: keys.sign(r, m)) as log:
            log.append(action="vote", target="api")
    as_role("carol")  # carol signs with bob's key: her record does not verify
    with PgAuditLog(ledger, signer=lambda m: keys.sign("bob", m)) as log:
        log.append(action="vote", target="api")
        result = log.verify(signers=keys.allowed(MEMBERS), members=frozenset(MEMBERS))
    assert (result.ok, result.bad_seq) == (False, 3)
    assert "carol" in result.reason


def test_whoami_names_the_database_role_and_its_membership(
    config: Path, as_role: As, capsys: pytest.CaptureFixture[str]
) -> None:
    as_role("bob")
    code, out, _ = quorum(capsys, config, "whoami", "--json")
    found = json.loads(out)
    assert (code, found["name"], found["source"], found["member"]) == (
        0,
        "bob",
        "database-role",
        True,
    )
    as_role("mallory")
    code, out, _ = quorum(capsys, config, "whoami")
    assert code == 0
    assert out.startswith("mallory: from the database role the server authenticated on ")
    assert "NOT a member of quorum_member: the server refuses your acts" in out
    code, _, err = quorum(capsys, config, "audit", "verify")
    assert code == 3
    assert "the ledger's server refused: permission denied" in err


APPENDER = """
import sys
from console.domain.settings import LedgerConfig
from console.store.postgres.audit import PgAuditLog
with PgAuditLog(LedgerConfig(url=sys.argv[1])) as log:
    for n in range(int(sys.argv[2])):
        log.append(action="vote", target="api", comment=f"{n}")
"""


def test_appends_from_three_roles_in_twelve_processes_never_fork_the_chain(
    pg_server: PgServer, database: str, config: Path, as_role: As, capsys
) -> None:
    url = ledger_of(pg_server, database).url
    assert url is not None
    running = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, url, "50"],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", **pg_server.env(role)},
            stderr=subprocess.PIPE,
            text=True,
        )
        for role in MEMBERS
        for _ in range(4)
    ]
    for process in running:
        assert process.wait(timeout=240) == 0, process.stderr.read() if process.stderr else ""
    as_role("alice")
    code, out, _ = quorum(capsys, config, "audit", "verify")
    assert (code, out) == (0, "ok: 600 records, chain intact\n")
    with PgAuditLog(ledger_of(pg_server, database)) as log:
        authors = Counter(r.who for r in log.tail(600))
    assert authors == {"alice": 200, "bob": 200, "carol": 200}


def test_a_command_says_when_the_head_it_saw_is_gone_from_the_ledger(
    pg_server: PgServer,
    database: str,
    config: Path,
    as_role: As,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The owner can rewrite what the triggers guard; each member's own memory of the head
    (in their state directory) is what shows a log cut short."""
    as_role("bob")
    with PgAuditLog(ledger_of(pg_server, database)) as log:
        for n in range(3):
            log.append(action="note", comment=f"record {n + 1}")
    code, _, err = quorum(capsys, config, "approvals")
    assert (code, err) == (0, "")
    with connect_as(pg_server, OWNER, database) as owner:
        owner.execute("ALTER TABLE quorum.audit_log DISABLE TRIGGER audit_log_append_only")
        owner.execute("DELETE FROM quorum.audit_log WHERE seq > 1")
        owner.execute("UPDATE quorum.audit_head SET seq = 1, hash = "
                      "(SELECT hash FROM quorum.audit_log WHERE seq = 1)")  # fmt: skip
    code, _, err = quorum(capsys, config, "approvals")
    assert code == 0
    assert "ends at record 1, but this account saw record 3 earlier" in err
    code, out, _ = quorum(capsys, config, "audit", "verify")
    assert code == 1
    assert out.startswith(f"failed: the audit log {ledger_of(pg_server, database).url} ends at ")
