"""The whole path with real servers: Prometheus scrapes an exporter this test runs, a
rule fires into Alertmanager, `quorum alerts` names the service the metric's labels
name, and a silence made by Quorum silences it in Alertmanager."""

from __future__ import annotations

import json
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from console.cli.main import main
from tests.alertmanager_support import (
    Alertmanager,
    alertmanager_fixture,
    find_binary,
    free_port,
    wait_ready,
)

__all__ = ["alertmanager_fixture"]  # the `alertmanager` fixture, used below by name

SERVICE = f"pay-{uuid.uuid4().hex[:6]}"
METRICS = (
    f'# TYPE app_error_ratio gauge\napp_error_ratio{{service="{SERVICE}",env="production"}} 9\n'
)
RULES = """\
groups:
  - name: quorum
    interval: 1s
    rules:
      - alert: ErrorRatioHigh
        expr: app_error_ratio > 5
        labels: {severity: critical}
        annotations: {summary: "errors at {{ $value }}%"}
"""


class Exporter(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        body = METRICS.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: the test's output is the console's."""


@pytest.fixture
def exporter() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Exporter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture
def prometheus(tmp_path: Path, alertmanager: Alertmanager, exporter: str) -> Iterator[str]:
    binary = find_binary(("prometheus",), "prometheus")
    (tmp_path / "rules.yml").write_text(RULES)
    am = alertmanager.url.removeprefix("http://")
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: [{tmp_path / 'rules.yml'}]\n"
        f"alerting: {{alertmanagers: [{{static_configs: [{{targets: ['{am}']}}]}}]}}\n"
        f"scrape_configs: [{{job_name: app, static_configs: [{{targets: ['{exporter}']}}]}}]\n"
    )
    url = f"http://127.0.0.1:{free_port()}"
    log = tmp_path / "prometheus.log"
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address={url.removeprefix('http://')}",
            "--rules.alert.resend-delay=2s",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    try:
        wait_ready(process, url, log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_rule_prometheus_fires_reaches_quorum_and_quorum_silences_it(
    prometheus: str,
    alertmanager: Alertmanager,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "quorum.toml"
    config.write_text(
        '[team]\nmembers = ["alice"]\n\n[[providers]]\nname = "am"\nkind = "alertmanager"\n'
        f'api_url = "{alertmanager.url}"\n'
    )
    monkeypatch.setenv("QUORUM_ACT_AS", "alice")
    fired = alertmanager.alert("ErrorRatioHigh", service=SERVICE)  # waits for the rule

    assert main(["alerts", "--json", "--config", str(config)]) == 0
    listed = json.loads(capsys.readouterr().out)["alerts"]
    (mine,) = [a for a in listed if a["service"] == SERVICE]
    assert (mine["name"], mine["environment"], mine["severity"]) == (
        "ErrorRatioHigh", "production", "critical",
    )  # fmt: skip
    assert mine["summary"] == "errors at 9%"

    argv = ["alerts", "silence", mine["id"], "--for", "1h", "--comment", "known: fix rolling"]
    assert main([*argv, "--config", str(config)]) == 0, capsys.readouterr().err
    now = alertmanager.alert("ErrorRatioHigh", service=SERVICE)
    assert now["fingerprint"] == fired["fingerprint"]
    assert now["status"]["state"] == "suppressed" and now["status"]["silencedBy"]
