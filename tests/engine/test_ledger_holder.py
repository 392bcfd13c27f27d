"""The rotation holder a proposal needs (`require_rotation_approval`) is read from the
schedule once the instant is settled, not on every derivation: each read costs a
connection on the PostgreSQL ledger, and the answer cannot change any more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.config.load import load_config
from console.domain.settings import Policy
from console.engine import ledger as ledger_module
from console.engine.ledger import Ledger
from console.rotation.schedule import holder_at
from console.store.claims import ClaimStore

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
CONFIG = """
[team]
members = ["alice", "bob"]

[[rotation]]
name = "primary"
every = "week"
members = ["alice", "bob"]
start = 2026-01-05
handoff = "09:00"
timezone = "UTC"
"""


def test_a_settled_instants_holder_is_read_once_a_recent_ones_each_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "quorum.toml").write_text(CONFIG)
    config = load_config(tmp_path / "quorum.toml")
    path = tmp_path / "audit.db"
    reads: list[datetime] = []

    def counted(*args: object, **kwargs: object) -> str | None:
        reads.append(args[2])  # type: ignore[arg-type]
        return holder_at(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ledger_module, "holder_at", counted)
    ledger = Ledger(config, path, ClaimStore(path), signer=None, clock=lambda: NOW)
    policy = Policy("production", min_approvals=1, require_rotation_approval="primary")
    old, recent = NOW - timedelta(hours=2), NOW - timedelta(minutes=1)
    try:
        holders = [ledger.holder(policy, at) for at in (old, old, recent, recent)]
    finally:
        ledger.close()
    expected = holder_at(config, "primary", old, path, as_known=True)
    assert expected in ("alice", "bob") and holders[:2] == [expected, expected]
    assert reads == [old, recent, recent]
