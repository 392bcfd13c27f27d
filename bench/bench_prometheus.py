"""Prometheus: the rows of 50 services from one batched query per metric, against one
query per service and metric, on the real Prometheus server (Debian's `prometheus`).

An exporter in this process serves a request counter and a CPU gauge for every
service; Prometheus scrapes it every second. Measured side by side, alternating: the
provider's snapshot (one instant query per metric for all services) and the same
figures asked service by service. Printed: the queries each sends, the time each
takes, and the ratio.

    python bench/bench_prometheus.py [--services N] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from providers.base import ProviderContext
from providers.prometheus import PrometheusProvider
from providers.prometheus.settings import render

QUERIES = {
    "error_rate": (
        'sum by (service) (rate(http_requests_total{service=~"{service}",code=~"5.."}[30s]))'
        ' / sum by (service) (rate(http_requests_total{service=~"{service}"}[30s])) * 100'
    ),
    "cpu": 'max by (service) (cpu_percent{service=~"{service}"})',
}


def exporter(services: int) -> ThreadingHTTPServer:
    scrapes = [0]

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            scrapes[0] += 1
            n = scrapes[0]
            lines = []
            for i in range(services):
                lines.append(f'http_requests_total{{service="s{i}",code="200"}} {n * 99}')
                lines.append(f'http_requests_total{{service="s{i}",code="500"}} {n}')
                lines.append(f'cpu_percent{{service="s{i}"}} {i % 100}')
            body = ("\n".join(lines) + "\n").encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_prometheus(folder: Path, target: str) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("prometheus")
    if binary is None:
        raise SystemExit("the prometheus binary is not on PATH: apt-get install -y prometheus")
    port = free_port()
    config = folder / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: exporter\n"
        f"    static_configs:\n      - targets: ['{target}']\n"
    )
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={folder / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            query = {"query": "count_over_time(cpu_percent[1m])"}
            answer = httpx.get(f"{url}/api/v1/query", params=query).json()
            result = answer["data"]["result"]
            if result and float(result[0]["value"][1]) >= 3:
                return process, url
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("prometheus never scraped the exporter")


async def measure(url: str, services: int, rounds: int) -> None:
    names = [f"s{i}" for i in range(services)]
    settings = {"api_url": url, "services": names, "service_label": "service",
                "queries": QUERIES, "interval": 1}  # fmt: skip
    context = ProviderContext(data_dir=Path(tempfile.mkdtemp()))
    batched, single = [], []
    batched_queries = single_queries = 0
    provider = PrometheusProvider("metrics", settings, context)
    try:
        for _ in range(rounds):
            provider._last = None  # a fresh snapshot each round
            sent = provider.client.stats.sent
            start = time.perf_counter()
            snap = await provider.snapshot()
            batched.append(time.perf_counter() - start)
            batched_queries = provider.client.stats.sent - sent
            assert all(t.metrics for t in snap.targets), "a service had no figures"
            sent = provider.client.stats.sent
            start = time.perf_counter()
            await asyncio.gather(*(
                provider._result("api/v1/query", {"query": render(q, (name,), "production")})
                for name in names for q in QUERIES.values()
            ))  # fmt: skip
            single.append(time.perf_counter() - start)
            single_queries = provider.client.stats.sent - sent
    finally:
        await provider.close()
    b, s = statistics.median(batched), statistics.median(single)
    print(f"{services} services, {len(QUERIES)} metrics: batched {batched_queries} queries "
          f"{b * 1000:.0f} ms; one per service {single_queries} queries {s * 1000:.0f} ms; "
          f"ratio {b / s:.2f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    server = exporter(args.services)
    folder = Path(tempfile.mkdtemp())
    process, url = start_prometheus(folder, f"127.0.0.1:{server.server_address[1]}")
    try:
        asyncio.run(measure(url, args.services, args.rounds))
    finally:
        process.terminate()
        process.wait()
        server.shutdown()


if __name__ == "__main__":
    main()
