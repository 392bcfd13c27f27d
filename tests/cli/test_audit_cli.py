"""`quorum audit tail|verify|export` as scripts and people use them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from console.cli.main import main
from console.store.audit import AuditLog


@pytest.fixture
def audit_db(isolated_quorum: Path) -> Path:
    """The sandbox's audit log (`<data dir>/sandbox/audit.db`) holding four records."""
    path = isolated_quorum / "sandbox" / "audit.db"
    with AuditLog(path) as log:
        log.append(who="alice", action="propose", target="api", environment="production",
                   revision="v2", outcome="recorded", key="p1")  # fmt: skip
        log.append(who="bob", action="vote", target="api", comment="\x1b]0;pwned\x07ok")
        log.append(who="carol", action="vote", target="api", outcome="recorded")
        log.append(who="alice", action="deploy", target="api", environment="production",
                   revision="v2", outcome="finished", key="p1")  # fmt: skip
    return path


def test_verify_an_empty_log(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", "--sandbox"]) == 0
    assert capsys.readouterr().out == "ok: 0 records, chain intact\n"


def test_verify_an_intact_log(audit_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--sandbox", "audit", "verify"]) == 0
    assert capsys.readouterr().out == "ok: 4 records, chain intact\n"


def test_verify_names_the_tampered_record(
    audit_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = sqlite3.connect(audit_db)
    raw.execute("DROP TRIGGER audit_log_no_update")
    raw.execute("UPDATE audit_log SET who = 'dave' WHERE seq = 3")
    raw.commit()
    raw.close()
    assert main(["audit", "verify", "--sandbox"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("failed: record 3: hash mismatch (edited)")
    assert out.count("\n") == 1

    assert main(["audit", "verify", "--sandbox", "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result == {
        "ok": False,
        "checked": 2,
        "bad_seq": 3,
        "reason": "record 3: hash mismatch (edited)",
        "signed": False,
    }


def test_tail_table(audit_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "tail", "--sandbox"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "SEQ", "TS", "WHO", "ACTION", "TARGET", "ENV", "REVISION", "OUTCOME", "COMMENT",
    ]  # fmt: skip
    assert [line.split()[0] for line in lines[1:]] == ["1", "2", "3", "4"]
    assert lines[4].split()[2:] == ["alice", "deploy", "api", "production", "v2", "finished"]
    assert "pwned" in lines[2] and "\x1b" not in lines[2] and "\x07" not in lines[2]


def test_tail_json_last_n(audit_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "tail", "-n", "2", "--json", "--sandbox"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["seq"] for r in records] == [3, 4]
    assert records[1]["key"] == "p1" and records[1]["outcome"] == "finished"
    assert records[1]["prev_hash"] == records[0]["hash"]
    assert records[0]["ts"].endswith("Z")


def test_tail_rejects_a_bad_count(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "tail", "-n", "0", "--sandbox"])
    assert exit_.value.code == 2
    assert "expected a whole number from 1 to 1000000" in capsys.readouterr().err


def test_export_jsonl(audit_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "export", "--format", "jsonl", "--sandbox"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3, 4]
    with AuditLog(audit_db) as log:
        assert [json.loads(line) for line in lines] == [r.to_json() for r in log.tail()]


def test_export_rejects_an_unknown_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "export", "--format", "csv", "--sandbox"])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_a_broken_file_is_one_line_and_exit_1(
    isolated_quorum: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated_quorum / "sandbox").mkdir(parents=True, exist_ok=True)
    (isolated_quorum / "sandbox" / "audit.db").write_bytes(b"garbage" * 1000)
    assert main(["audit", "tail", "--sandbox"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("quorum: audit log ")
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err


def test_the_text_of_tail_shows_an_overrides_reason(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUORUM_SANDBOX_TEAMMATES", "off")
    reason = "checkout is down, customers cannot pay"
    code = main(["propose", "deploy", "web", "--env", "production", "--revision", "v9",
                 "--json", "--sandbox"])  # fmt: skip
    pid = json.loads(capsys.readouterr().out)["id"]
    assert code == 0
    assert main(["override", str(pid), "--reason", reason, "--sandbox"]) == 0
    capsys.readouterr()
    assert main(["audit", "tail", "--sandbox"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    comment_at = header.index("COMMENT")
    overrides = [row for row in rows if row.split()[3] == "override"]
    assert len(overrides) == 1
    assert overrides[0][comment_at:].endswith(f": {reason}")
