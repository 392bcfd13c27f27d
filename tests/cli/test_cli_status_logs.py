"""`quorum status` and `quorum logs` on the sandbox, as scripts use them."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from console.cli.main import main

STATUS_KEYS = {
    "service", "environment", "provider", "target", "revision", "status",
    "ready", "desired", "updated_at", "serving", "platforms", "health", "alarms", "alerts",
    "canary", "stale", "error",
}  # fmt: skip
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def status_json(capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict]:
    assert main(["status", "--sandbox", "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_status_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    rows = status_json(capsys)
    assert len({r["service"] for r in rows}) >= 8
    assert {r["environment"] for r in rows} == {"dev", "staging", "production"}
    assert len({r["provider"] for r in rows}) == 4  # three platforms and the monitoring
    for row in rows:
        assert set(row) == STATUS_KEYS
        assert (row["serving"], row["platforms"]) == ("", [])  # no site in the sandbox
        assert row["status"] in {"ready", "progressing", "degraded", "failed", "paused", "unknown"}
        assert row["health"] in {"ok", "warning", "critical", "unknown"}
        assert isinstance(row["ready"], int) and isinstance(row["desired"], int)
        assert row["updated_at"] is None or ISO.match(row["updated_at"])
        assert row["stale"] is False and row["error"] is None


def test_status_table_lists_every_target(capsys: pytest.CaptureFixture[str]) -> None:
    rows = status_json(capsys)
    assert main(["status", "--sandbox"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["SERVICE", "ENV", "PROVIDER", "REVISION"]
    assert len(lines) == 1 + len(rows)


def test_a_broken_provider_is_reported_and_the_rest_still_print(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "quorum.toml"
    config.write_text(
        '[team]\nname = "t"\nmembers = ["alice", "bob"]\n\n'
        '[[providers]]\nname = "sim"\nkind = "sandbox"\nplatform = "ecs"\n\n'
        '[[providers]]\nname = "k"\nkind = "sandbox"\nplatform = "nowhere"\n'
    )
    code = main(["status", "--json", "--config", str(config)])
    captured = capsys.readouterr()
    assert code == 1
    rows = json.loads(captured.out)
    assert rows and {r["provider"] for r in rows} == {"sim"}
    assert "provider k (sandbox)" in captured.err


def test_logs_tail_prints_that_many_timestamped_lines(capsys: pytest.CaptureFixture[str]) -> None:
    row = status_json(capsys)[0]
    assert (
        main(["logs", row["service"], "--env", row["environment"], "--sandbox", "--tail", "5"]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    for line in lines:
        stamp, level = line.split()[:2]
        assert ISO.match(stamp) and level in {"DEBUG", "INFO", "WARN", "ERROR"}


def test_logs_without_a_window_print_the_last_hour_as_help_says(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["logs", "--help"])
    assert exit_info.value.code == 0
    assert "default: the last hour on the sandbox" in " ".join(capsys.readouterr().out.split())
    row = status_json(capsys)[0]
    assert main(["logs", row["service"], "--env", row["environment"], "--sandbox"]) == 0
    stamps = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    first, last = (datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ") for s in (stamps[0], stamps[-1]))
    assert timedelta(minutes=59) <= last - first <= timedelta(hours=1)


def test_logs_of_an_unknown_service_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "no-such-service", "--env", "production", "--sandbox"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("quorum: no service 'no-such-service' in environment 'production'")


def test_logs_rejects_a_bad_since(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["logs", "api", "--env", "production", "--sandbox", "--since", "soon"])
    assert exit_info.value.code == 2
    assert "invalid duration 'soon'" in capsys.readouterr().err


def test_logs_passes_the_container_choice_to_the_provider(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["logs", "api", "--env", "staging", "--sandbox", "--container", "nope"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err == "quorum: not found: deployment/api has no container 'nope' (it has 'api')\n"
    assert main(["logs", "api", "--env", "staging", "--sandbox", "--container", "api"]) == 0
