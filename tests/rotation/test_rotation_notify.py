"""Handoff notices over a real webhook on loopback: one notice per handoff, retries on failure."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime

import pytest
from werkzeug.wrappers import Response

from console.cli.main import main
from console.domain.errors import UsageError
from console.domain.settings import Config, NotifyConfig, Restriction, RotationConfig
from console.rotation.notify import send_handoff_notices
from console.store.audit import AuditLog

HOOK_ENV = "QUORUM_TEST_ROTATION_HOOK"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def config(**rotation_fields) -> Config:
    fields = dict(
        name="on-call",
        every="week",
        members=("ann", "ben"),
        start=date(2026, 3, 2),
        handoff="09:00",
        timezone="Europe/Berlin",
    )
    return Config(
        team_name="t",
        notify=(NotifyConfig(kind="webhook", url_env=HOOK_ENV, timeout=2.0),),
        rotations=(RotationConfig(**(fields | rotation_fields)),),
    )


@pytest.fixture
def hook(httpserver, monkeypatch):
    monkeypatch.setenv(HOOK_ENV, httpserver.url_for("/hook"))
    return httpserver


def bodies(server) -> list[dict]:
    return [json.loads(request.get_data()) for request, _ in server.log]


def notify(cfg: Config, db, now: datetime):
    return asyncio.run(send_handoff_notices(cfg, db, "cron", now=now))


def test_two_runs_for_one_handoff_send_one_notice(hook, tmp_path):
    hook.expect_request("/hook", method="POST").respond_with_json({})
    db = tmp_path / "audit.db"
    # ben's week starts Monday 2026-03-09 09:00 Berlin (08:00 UTC).
    first = notify(config(), db, utc(2026, 3, 9, 8, 5))
    second = notify(config(), db, utc(2026, 3, 9, 9, 30))
    assert [(d.holder, d.handoff_at, d.status) for d in first] == [
        ("ben", utc(2026, 3, 9, 8), "sent")
    ]
    assert [d.status for d in second] == ["already sent"]
    assert len(hook.log) == 1
    body = bodies(hook)[0]
    assert body["title"] == "on-call: ben takes over"
    assert body["fields"] == {
        "rotation": "on-call",
        "holder": "ben",
        "until": "2026-03-16T08:00:00Z",
        "next": "ann",
    }
    # The next handoff is announced in its turn.
    third = notify(config(), db, utc(2026, 3, 16, 8, 1))
    assert [(d.holder, d.status) for d in third] == [("ann", "sent")]
    assert len(hook.log) == 2
    log = AuditLog(db)
    try:
        records = [(r.action, r.outcome, r.key) for r in log.tail(10)]
    finally:
        log.close()
    assert records == [
        ("rotation.notify", "sent", "rotation.notify:on-call:2026-03-09T08:00:00Z"),
        ("rotation.notify", "sent", "rotation.notify:on-call:2026-03-16T08:00:00Z"),
    ]


def test_a_notice_no_sink_received_is_retried_by_the_next_run(hook, tmp_path):
    db = tmp_path / "audit.db"
    hook.expect_oneshot_request("/hook", method="POST").respond_with_response(
        Response("down", status=500)
    )
    failed = notify(config(), db, utc(2026, 3, 9, 8, 5))
    assert [(d.status, d.errors) for d in failed] == [
        ("failed", ("webhook[0]: HTTP 500 INTERNAL SERVER ERROR",))
    ]
    hook.expect_request("/hook", method="POST").respond_with_json({})
    retried = notify(config(), db, utc(2026, 3, 9, 8, 10))
    assert [d.status for d in retried] == ["sent"]
    assert [d.status for d in notify(config(), db, utc(2026, 3, 9, 8, 15))] == ["already sent"]
    assert len(hook.log) == 2


def test_old_handoffs_are_not_announced(hook, tmp_path):
    done = notify(config(), tmp_path / "audit.db", utc(2026, 3, 11))
    assert [d.status for d in done] == ["too old"]
    assert hook.log == []


def test_a_gap_is_announced_as_a_warning(hook, tmp_path):
    hook.expect_request("/hook", method="POST").respond_with_json({})
    office = config(restrictions=(Restriction(days=(0, 1, 2, 3, 4), start="09:00", end="17:00"),))
    done = notify(office, tmp_path / "audit.db", utc(2026, 3, 13, 16, 30))  # Friday 17:30 Berlin
    assert [(d.holder, d.status) for d in done] == [("", "sent")]
    body = bodies(hook)[0]
    assert (body["title"], body["severity"]) == ("on-call: nobody holds it", "warning")
    assert "until 2026-03-16T08:00:00Z" in body["text"]


def test_notify_without_sinks_is_a_usage_error(tmp_path):
    bare = Config(rotations=config().rotations)
    with pytest.raises(UsageError, match="no \\[\\[notify\\]\\] sinks"):
        notify(bare, tmp_path / "audit.db", utc(2026, 3, 9, 8, 5))


def test_cli_notify_twice_sends_once(hook, tmp_path, capsys):
    hook.expect_request("/hook", method="POST").respond_with_json({})
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[team]
name = "t"
members = ["ann", "ben"]

[[notify]]
kind = "webhook"
url_env = "{HOOK_ENV}"

[[rotation]]
name = "on-call"
every = "week"
members = ["ann", "ben"]
start = 2026-01-05
handoff = "09:00"
timezone = "America/New_York"
""",
        encoding="utf-8",
    )
    assert main(["rotation", "notify", "--within", "8d", "--json", "--config", str(path)]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["rotation", "notify", "--within", "8d", "--json", "--config", str(path)]) == 0
    second = json.loads(capsys.readouterr().out)
    assert [d["status"] for d in first] == ["sent"]
    assert [d["status"] for d in second] == ["already sent"]
    assert first[0]["handoff_at"] == second[0]["handoff_at"]
    assert len(hook.log) == 1
    assert main(["rotation", "notify", "--within", "soon", "--config", str(path)]) == 2
    assert "--within: invalid duration 'soon'" in capsys.readouterr().err


def test_cli_warns_of_an_undelivered_handoff_like_every_command(hook, tmp_path, capsys):
    hook.expect_request("/hook", method="POST").respond_with_data("down", status=503)
    path = tmp_path / "config.toml"
    path.write_text(
        f'[team]\nmembers = ["ann", "ben"]\n\n[[notify]]\nkind = "webhook"\n'
        f'url_env = "{HOOK_ENV}"\n\n[[rotation]]\nname = "on-call"\nevery = "week"\n'
        'members = ["ann", "ben"]\nstart = 2026-01-05\n',
        encoding="utf-8",
    )
    for json_out in ([], ["--json"]):
        argv = ["rotation", "notify", "--within", "8d", *json_out, "--config", str(path)]
        assert main(argv) == 1
        assert capsys.readouterr().err == (
            "quorum: notice not delivered: webhook[0]: HTTP 503 SERVICE UNAVAILABLE "
            "(on-call handoff)\n"
        )
