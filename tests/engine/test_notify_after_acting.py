"""Notices go out after the change, bounded in time, and a failed one is warned about on
stderr by every command the same way."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from console.cli.main import main
from console.domain.names import current_user
from console.store.audit import AuditLog

ME = current_user()


@pytest.fixture
def threaded() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def team(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOOK", url)
    path = tmp_path / "team.toml"
    path.write_text(
        f'[team]\nmembers = ["{ME}", "alice", "bob"]\n\n'
        f'[audit]\npath = "{tmp_path / "audit.db"}"\n\n'
        "[policy.production]\nmin_approvals = 2\n\n"
        '[[providers]]\nname = "sim"\nkind = "sandbox"\nplatform = "kubernetes"\n\n'
        '[[notify]]\nkind = "webhook"\nurl_env = "HOOK"\ntimeout = 0.5\n'
    )
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str, who: str | None = None):
    if who:
        os.environ["QUORUM_ACT_AS"] = who
    try:
        code = main(list(argv))
    finally:
        os.environ.pop("QUORUM_ACT_AS", None)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_an_override_runs_before_a_hanging_sink_is_asked(
    threaded: HTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seen: list[list[tuple[str, str]]] = []
    release = threading.Event()

    def hang(request: Request) -> Response:
        with AuditLog(tmp_path / "audit.db") as log:
            seen.append([(r.action, r.outcome) for r in log.tail(100)])
        release.wait(30)
        return Response("late")

    threaded.expect_request("/hook").respond_with_handler(hang)
    config = team(tmp_path, threaded.url_for("/hook"), monkeypatch)
    try:
        assert run(capsys, "propose", "deploy", "api", "--env", "production",
                   "--revision", "v7", "--config", str(config))[0] == 0  # fmt: skip
        seen.clear()
        code, out, err = run(capsys, "override", "1", "--reason", "outage", "--json",
                             "--config", str(config), who="alice")  # fmt: skip
    finally:
        release.set()
    assert code == 0
    assert json.loads(out)["state"] == "executed"
    # Every notice of the override found the deploy already finished in the log.
    assert seen and all(("deploy", "finished") in log for log in seen)
    # The progress line after half a second of store work comes only on a slow machine.
    said = [line for line in err.splitlines() if "waiting for the audit database" not in line]
    assert said == [
        "quorum: notice not delivered: webhook[0]: timed out after 0.5s",
        "quorum: notice not delivered: webhook[0]: timed out after 0.5s",
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["rollback", "api", "--env", "production"],
        ["restart", "api", "--env", "staging"],
        ["deploy", "api", "--env", "staging", "--revision", "v8"],
    ],
)
def test_a_failed_notice_is_warned_on_stderr(
    httpserver: HTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    httpserver.expect_request("/hook").respond_with_data("no", status=500)
    config = team(tmp_path, httpserver.url_for("/hook"), monkeypatch)
    code, out, err = run(capsys, *argv, "--config", str(config))
    assert code == 0 and out
    assert err == "quorum: notice not delivered: webhook[0]: HTTP 500 INTERNAL SERVER ERROR\n"
