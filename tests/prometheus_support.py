"""The real Prometheus server from Debian's package, started on a loopback port with
a temporary config that scrapes an exporter the test runs every second."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

BINARY = "prometheus"
MISSING = (
    "the prometheus binary is not on PATH: install Debian's `prometheus` package "
    "(`apt-get install -y prometheus`; .ci/run does)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Exporter:
    """Counters that grow on every scrape (api: one request in ten fails, web: none)
    and a CPU gauge per service, as a /metrics page."""

    def __init__(self, server: HTTPServer) -> None:
        self.scrapes = 0
        self.lock = threading.Lock()
        server.expect_request("/metrics").respond_with_handler(self.page)

    def page(self, request: Request) -> Response:
        with self.lock:
            self.scrapes += 1
            n = self.scrapes
        lines = ["# TYPE http_requests_total counter"]
        for service, bad in (("api", 1), ("web", 0)):
            for env in ("production", "staging"):
                labels = f'service="{service}",env="{env}"'
                lines.append(f'http_requests_total{{{labels},code="200"}} {n * (10 - bad)}')
                lines.append(f'http_requests_total{{{labels},code="500"}} {n * bad}')
        lines.append("# TYPE cpu_percent gauge")
        lines.append('cpu_percent{service="api",env="production"} 42.5')
        lines.append('cpu_percent{service="web",env="production"} 7.25')
        return Response("\n".join(lines) + "\n", content_type="text/plain; version=0.0.4")


def run_prometheus(tmp_path: Path, target: str) -> Iterator[str]:
    """Prometheus scraping `target` (host:port) every second; yields its base URL once it
    has scraped the exporter twice (rate() needs two samples). Fails without the binary."""
    binary = shutil.which(BINARY)
    if binary is None:
        pytest.fail(MISSING)
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: exporter\n"
        f"    static_configs:\n      - targets: ['{target}']\n"
    )
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_samples(url, process, tmp_path / "prometheus.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_for_samples(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Polls until the exporter's counters have two samples; a bounded wait, not a check."""
    deadline = time.monotonic() + 60
    query = {"query": "count_over_time(cpu_percent[1m])"}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"prometheus exited: {log.read_text()[-2000:]}")
        try:
            answer = httpx.get(f"{url}/api/v1/query", params=query, timeout=2).json()
            result = answer["data"]["result"]
            if result and float(result[0]["value"][1]) >= 3:
                return
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    pytest.fail(f"prometheus never scraped the exporter: {log.read_text()[-2000:]}")
