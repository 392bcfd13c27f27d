"""One timestamp codec across the ledger, and files written before it stay readable."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from console.store.db import from_text, to_text
from console.store.proposals import ProposalStore
from console.store.rotation import RotationStore


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_codec_is_fixed_width_and_reads_the_older_forms() -> None:
    at = utc(2026, 3, 2, 9, 0, 0)
    assert to_text(at) == "2026-03-02T09:00:00.000000Z"
    assert to_text(datetime(2026, 3, 2, 10, 30, tzinfo=UTC).astimezone()) == to_text(
        utc(2026, 3, 2, 10, 30)
    )
    for older in ("2026-03-02T09:00:00+00:00", "2026-03-02T09:00:00Z", to_text(at)):
        assert from_text(older) == at
    assert sorted([to_text(utc(2026, 3, 2, 9, 0, 1)), to_text(at)]) == [
        to_text(at),
        to_text(utc(2026, 3, 2, 9, 0, 1)),
    ]


def test_proposals_written_in_the_older_form_are_read(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    ProposalStore(path).close()
    raw = sqlite3.connect(path)
    raw.execute(
        "INSERT INTO proposals (kind, provider, service, environment, target, revision,"
        " proposer, reason, created_at, updated_at, state) VALUES"
        " ('deploy', 'k', 'api', 'production', 'deployment/api', 'v2', 'ann', '',"
        " '2026-03-02T09:00:00+00:00', '2026-03-02T09:05:00.250000+00:00', 'open')"
    )
    raw.commit()
    raw.close()
    store = ProposalStore(path)
    try:
        [p] = store.list()
        assert (p.created_at, p.updated_at) == (
            utc(2026, 3, 2, 9),
            utc(2026, 3, 2, 9, 5, 0, 250000),
        )
    finally:
        store.close()


def test_rotation_rows_in_the_older_form_are_rewritten_so_text_comparisons_hold(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.db"
    RotationStore(path).close()
    raw = sqlite3.connect(path)
    raw.execute(
        "INSERT INTO rotation_overrides (id, rotation, who, starts_at, ends_at, reason,"
        " created_by, created_at) VALUES ('abc123', 'on-call', 'dee', '2026-03-02T09:00:00Z',"
        " '2026-03-03T09:00:00Z', 'cover', 'ann', '2026-03-01T00:00:00Z')"
    )
    raw.execute(
        "INSERT INTO rotation_notices (rotation, handoff_at, holder, sent_at)"
        " VALUES ('on-call', '2026-03-02T09:00:00Z', 'dee', '2026-03-02T09:01:00Z')"
    )
    raw.commit()
    raw.close()
    with RotationStore(path) as store:
        # Ending exactly where the window starts: not in force in it.
        assert store.overrides(utc(2026, 3, 3, 9), utc(2026, 3, 4)) == []
        [found] = store.overrides(utc(2026, 3, 3), utc(2026, 3, 4))
        assert (found.starts_at, found.ends_at) == (utc(2026, 3, 2, 9), utc(2026, 3, 3, 9))
        # A handoff announced before the upgrade is not announced again.
        assert not store.claim_notice("on-call", utc(2026, 3, 2, 9), "dee", utc(2026, 3, 2, 10))
    raw = sqlite3.connect(path)
    stored = raw.execute("SELECT starts_at, ends_at, created_at FROM rotation_overrides").fetchone()
    raw.close()
    assert stored == (
        "2026-03-02T09:00:00.000000Z",
        "2026-03-03T09:00:00.000000Z",
        "2026-03-01T00:00:00.000000Z",
    )
