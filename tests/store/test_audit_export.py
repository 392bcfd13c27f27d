"""`export_jsonl` writes what verify checks: an export can be re-verified on its own."""

from __future__ import annotations

import io
import json

from console.store.audit import AuditRecord, check_chain
from tests.pg_support import Ledgers

FIELDS = (
    "seq", "ts", "who", "action", "target", "environment", "revision", "outcome",
    "comment", "key", "prev_hash", "hash",
)  # fmt: skip


def exported(ledgers: Ledgers) -> tuple[list[AuditRecord], str]:
    for who, fields in (
        ("alice", {"action": "propose", "target": "api", "revision": "v2", "key": "p1"}),
        ("bob", {"action": "vote", "comment": "lgtm ✓ \x1b[31m", "key": "p1"}),
        ("carol", {"action": "deploy", "environment": "production", "outcome": "finished"}),
    ):
        with ledgers.log(who) as log:
            assert log.append(who=who, **fields).who == who
    with ledgers.log() as log:
        out = io.StringIO()
        assert log.export_jsonl(out) == 3
        return log.tail(), out.getvalue()


def test_export_round_trips(ledgers: Ledgers) -> None:
    records, text = exported(ledgers)
    lines = text.splitlines()
    assert len(lines) == 3 and text.endswith("\n")
    parsed = [AuditRecord.from_json(json.loads(line)) for line in lines]
    assert parsed == records
    for line in lines:
        assert list(json.loads(line)) == list(FIELDS)
        assert line.isascii()  # escapes everything: safe on any terminal
    for record in parsed:
        assert record.expected_hash() == record.hash


def test_an_export_verifies_on_its_own(ledgers: Ledgers) -> None:
    _, text = exported(ledgers)
    objects = [json.loads(line) for line in text.splitlines()]
    rows = [tuple(o[name] for name in FIELDS) for o in objects]
    assert check_chain(rows, (3, objects[-1]["hash"])).ok

    objects[1]["comment"] = "no objection"
    rows = [tuple(o[name] for name in FIELDS) for o in objects]
    result = check_chain(rows, None)
    assert (result.ok, result.bad_seq) == (False, 2)


def test_an_empty_log_exports_nothing(ledgers: Ledgers) -> None:
    out = io.StringIO()
    with ledgers.log() as log:
        assert log.export_jsonl(out) == 0
    assert out.getvalue() == ""
