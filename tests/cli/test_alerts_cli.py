"""`quorum alerts` against a real Alertmanager: listing, silencing and expiring, audited
and the team told; refused on a read-only console."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from console.cli.main import main
from tests.alertmanager_support import Alertmanager, alertmanager_fixture
from tests.ci_support import audit_records, loopback_server

__all__ = ["alertmanager_fixture"]  # the `alertmanager` fixture, used below by name


@pytest.fixture
def hook() -> HTTPServer:
    yield from loopback_server()


def write_config(tmp_path: Path, url: str, hook: HTTPServer, extra: str = "") -> Path:
    config = tmp_path / "quorum.toml"
    config.write_text(
        f"""
[team]
members = ["alice", "bob"]

[[notify]]
kind = "webhook"
url_env = "HOOK_URL"

[[providers]]
name = "am"
kind = "alertmanager"
api_url = "{url}"
{extra}
"""
    )
    return config


class Run:
    def __init__(self, config: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:  # noqa: ANN001
        self.config, self.capsys = config, capsys
        monkeypatch.setenv("QUORUM_ACT_AS", "alice")
        self.out = self.err = ""

    def __call__(self, *argv: str) -> int:
        code = main([*argv, "--config", str(self.config)])
        captured = self.capsys.readouterr()
        self.out, self.err = captured.out, captured.err
        return code


@pytest.fixture
def run(tmp_path: Path, alertmanager: Alertmanager, hook: HTTPServer, capsys, monkeypatch) -> Run:  # noqa: ANN001
    monkeypatch.setenv("HOOK_URL", hook.url_for("/hook"))
    hook.expect_request("/hook", method="POST").respond_with_data("ok")
    return Run(write_config(tmp_path, alertmanager.url, hook), capsys, monkeypatch)


def unique() -> str:
    return f"svc-{uuid.uuid4().hex[:8]}"


def test_alerts_lists_firing_alerts_with_the_service_and_environment_their_labels_name(
    run: Run,
    alertmanager: Alertmanager,
) -> None:
    service = unique()
    fp = alertmanager.fire(
        "HighErrorRate", "critical", "5xx above 5%", service=service, env="production"
    )
    alertmanager.fire("DiskFilling", "warning", service=service)
    assert run("alerts", "--json") == 0, run.err
    mine = [a for a in json.loads(run.out)["alerts"] if a["service"] == service]
    assert [a["name"] for a in mine] == ["HighErrorRate", "DiskFilling"]  # most severe first
    first = mine[0]
    assert first["id"] == f"am:{fp}"
    assert (first["environment"], first["summary"], first["state"]) == (
        "production", "5xx above 5%", "active",
    )  # fmt: skip
    assert mine[1]["environment"] is None
    assert run("alerts") == 0
    line = next(x for x in run.out.splitlines() if "HighErrorRate" in x and service in x)
    assert f"am:{fp}" in line and "production" in line and "critical" in line


def test_configured_label_names_decide_the_service(
    tmp_path: Path,
    alertmanager: Alertmanager,
    hook: HTTPServer,
    capsys,
    monkeypatch,  # noqa: ANN001
) -> None:
    app = unique()
    alertmanager.fire("Down", app=app, stage="staging")
    config = write_config(
        tmp_path, alertmanager.url, hook,
        'service_labels = ["app"]\nenvironment_labels = ["stage"]',
    )  # fmt: skip
    run = Run(config, capsys, monkeypatch)
    assert run("alerts", "--json") == 0, run.err
    found = [a for a in json.loads(run.out)["alerts"] if a["labels"].get("app") == app]
    assert [(a["service"], a["environment"]) for a in found] == [(app, "staging")]


def test_a_silence_made_from_quorum_silences_the_alert_in_alertmanager(
    run: Run,
    alertmanager: Alertmanager,
    hook: HTTPServer,
    tmp_path: Path,
) -> None:
    service = unique()
    fp = alertmanager.fire("Latency", "warning", service=service, env="staging")
    code = run(
        "alerts", "silence", f"am:{fp[:8]}", "--for", "2h", "--comment", "deploy in progress"
    )
    assert code == 0, run.err
    silenced = alertmanager.alert("Latency", service=service)
    assert silenced["status"]["state"] == "suppressed"
    (silence_id,) = silenced["status"]["silencedBy"]
    assert silence_id in run.out
    made = alertmanager.silence(silence_id)
    assert (made["createdBy"], made["comment"]) == ("alice", "deploy in progress")
    hours = (_when(made["endsAt"]) - _when(made["startsAt"])).total_seconds() / 3600
    assert 1.99 < hours <= 2.0
    assert {"name": "service", "value": service, "isRegex": False, "isEqual": True} in made[
        "matchers"
    ]
    record = next(r for r in audit_records(tmp_path / "quorum-data") if r["action"] == "silence")
    assert (record["who"], record["outcome"], record["revision"]) == (
        "alice",
        "finished",
        silence_id,
    )
    assert "deploy in progress" in record["comment"]
    told = [json.loads(req.get_data()) for req, _ in hook.log]
    assert any("Latency silenced by alice" in json.dumps(body) for body in told)

    # The listing marks it silenced; expiring brings it back.
    assert run("alerts", "--json") == 0
    (mine,) = [a for a in json.loads(run.out)["alerts"] if a["service"] == service]
    assert mine["silenced_by"] == [silence_id]
    assert run("alerts", "expire", silence_id) == 0, run.err
    assert alertmanager.silence(silence_id)["status"]["state"] == "expired"
    actions = [r["action"] for r in audit_records(tmp_path / "quorum-data")]
    assert actions.count("expire-silence") == 1


def _when(text: str):  # noqa: ANN202
    from providers.ci.times import parse_time

    return parse_time(text)


def test_a_read_only_console_refuses_to_silence(run: Run, alertmanager: Alertmanager) -> None:
    service = unique()
    fp = alertmanager.fire("Quiet", service=service)
    assert run("alerts", "silence", f"am:{fp}", "--for", "1h", "--comment", "x", "--readonly") == 3
    assert "read-only" in run.err
    assert alertmanager.alert("Quiet", service=service)["status"]["silencedBy"] == []


def test_bad_input_is_one_line_and_nothing_is_sent(run: Run, alertmanager: Alertmanager) -> None:
    before = len(alertmanager.silences())
    assert run("alerts", "silence", "am:nosuchalert", "--for", "1h", "--comment", "x") != 0
    assert "is not active" in run.err and len(run.err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as usage:
        run("alerts", "silence", "am:x", "--for", "soon", "--comment", "x")
    assert usage.value.code == 2
    assert "invalid duration 'soon'" in run.capsys.readouterr().err
    assert run("alerts", "expire", "no-such-silence") != 0
    assert run.err.startswith("quorum: ") and len(run.err.strip().splitlines()) == 1
    assert len(alertmanager.silences()) == before


def test_markup_and_escapes_from_the_server_are_inert(run: Run, alertmanager: Alertmanager) -> None:
    service = unique()
    alertmanager.fire("Evil", summary="\x1b[31mred[/] [bold]x", service=service)
    assert run("alerts") == 0
    assert "\x1b" not in run.out


def test_an_unreachable_alertmanager_is_one_line_and_exit_1(
    tmp_path: Path,
    hook: HTTPServer,
    capsys,
    monkeypatch,  # noqa: ANN001
) -> None:
    from tests.alertmanager_support import free_port

    run = Run(write_config(tmp_path, f"http://127.0.0.1:{free_port()}", hook), capsys, monkeypatch)
    assert run("alerts") == 1
    assert "am" in run.err and "unreachable" in run.err


def test_a_block_without_its_url_is_a_config_problem_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "quorum.toml"
    config.write_text('[[providers]]\nname = "am"\nkind = "alertmanager"\nservice_labels = []\n')
    assert main(["config", "check", "--config", str(config)]) != 0
    err = capsys.readouterr()
    said = err.out + err.err
    assert "providers[0].api_url" in said and "service_labels" in said


def test_status_names_the_alert_on_the_rows_of_its_service_and_raises_their_health(
    tmp_path: Path,
    alertmanager: Alertmanager,
    hook: HTTPServer,
    capsys,
    monkeypatch,  # noqa: ANN001
) -> None:
    tag = unique()
    alertmanager.fire(f"Queue{tag}", "critical", service="worker", env="staging")
    extra = (
        '\n[[providers]]\nname = "sim"\nkind = "sandbox"\nplatform = "kubernetes"\npaused = true\n'
    )
    run = Run(write_config(tmp_path, alertmanager.url, hook, extra), capsys, monkeypatch)
    assert run("status", "--json") == 0, run.err
    rows = {(r["service"], r["environment"]): r for r in json.loads(run.out)}
    named = rows["worker", "staging"]
    assert named["health"] == "critical"
    assert [a["name"] for a in named["alerts"] if tag in a["name"]] == [f"Queue{tag}"]
    assert not any(tag in a["name"] for a in rows["worker", "production"]["alerts"])
    assert run("status") == 0
    line = next(x for x in run.out.splitlines() if x.startswith("worker") and "staging" in x)
    assert f"🔔Queue{tag}" in line
