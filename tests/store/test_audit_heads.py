"""Each command remembers the audit head it saw; a log rebuilt behind its back is reported,
on the SQLite file and on a PostgreSQL ledger (rebuilt there by the owner role)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from console.cli.main import main
from tests.pg_support import Ledgers

Quorum = Callable[..., int]


@pytest.fixture
def log(ledgers: Ledgers) -> Ledgers:
    for who in ("alice", "bob", "carol"):
        with ledgers.log(who) as audit:
            audit.append(who=who, action="vote", target="api", outcome="approve")
    ledgers.act_as("alice")
    return ledgers


@pytest.fixture
def quorum(log: Ledgers) -> Quorum:
    """The command line on the team's config for this ledger."""
    config = log.config()
    return lambda *argv: main([*argv, "--config", str(config)])


def test_a_rebuilt_log_is_reported_at_the_next_start_and_by_verify(
    log: Ledgers, quorum: Quorum, capsys: pytest.CaptureFixture[str]
) -> None:
    assert quorum("audit", "verify") == 0  # seen: record 3
    capsys.readouterr()
    # Record 2 removed and the chain rebuilt after it: consistent again, one record short.
    log.forge_delete(2)
    with log.log("alice") as audit:
        assert audit.verify().ok
    assert quorum("approvals") == 0
    err = capsys.readouterr().err
    assert "quorum: warning: the audit log" in err
    assert "ends at record 2, but this account saw record 3 earlier" in err
    assert quorum("audit", "verify", "--json") == 1
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is False and "this account saw record 3" in result["reason"]
    # The memory is not overwritten by the rebuilt log: the warning stays.
    assert quorum("approvals") == 0
    assert "this account saw record 3" in capsys.readouterr().err


def test_verify_against_a_head_kept_elsewhere(
    log: Ledgers,
    quorum: Quorum,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    assert quorum("audit", "tail", "-n", "2", "--json") == 0
    kept = json.loads(capsys.readouterr().out)[0]["hash"]  # record 2's hash, kept in a ticket
    assert quorum("audit", "verify", "--head", kept) == 0
    assert capsys.readouterr().out == "ok: 3 records, chain intact\n"
    log.forge_delete(1)
    monkeypatch.setenv("QUORUM_STATE_DIR", str(tmp_path / "elsewhere"))  # no memory of it
    assert quorum("audit", "verify") == 0  # a consistent chain of 2
    capsys.readouterr()
    assert quorum("audit", "verify", "--head", kept) == 1
    assert capsys.readouterr().out.startswith(f"failed: the head {kept} is not in the log")
