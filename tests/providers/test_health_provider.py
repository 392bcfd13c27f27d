"""The health provider against real loopback servers: healthy, unready, slow, failing
and garbage endpoints, the figures a /metrics page allows, and the connection bound."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from console.cli.main import main
from console.config.provider_settings import setting_problems
from console.domain.model import ERROR_RATE, P99, RolloutStatus, Target
from providers.base import ProviderContext
from providers.health import HealthProvider
from providers.health.exposition import Scrape, derive, quantile, read
from tests.health_support import GarbageServer, exposition, threaded_server

BUCKETS = {"0.05": 900, "0.1": 980, "0.5": 1000, "+Inf": 1000}


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    yield from threaded_server()


def provider(tmp_path: Path, urls: dict[str, str], **settings: Any) -> HealthProvider:
    block = {"urls": urls, "timeout": 2.0, **settings}
    assert setting_problems(HealthProvider, block) == []
    return HealthProvider("health", block, ProviderContext(data_dir=tmp_path))


def serve(server: HTTPServer, prefix: str, health: Any, ready: Any, metrics: str = "") -> None:
    for path, answer in (("health", health), ("ready", ready)):
        status, body = answer
        server.expect_request(f"{prefix}/{path}").respond_with_json(body, status=status)
    if metrics:
        server.expect_request(f"{prefix}/metrics").respond_with_data(
            metrics, content_type="text/plain; version=0.0.4"
        )


async def targets(p: HealthProvider) -> dict[str, Target]:
    try:
        snap = await p.snapshot()
    finally:
        await p.close()
    return {t.ref.service: t for t in snap.targets}


async def test_a_healthy_service_is_ready_with_its_version_error_rate_and_p99(
    server: HTTPServer, tmp_path: Path
) -> None:
    serve(server, "/api", (200, {"status": "healthy", "version": "v2.8.1"}),
          (200, {"status": "ready"}), exposition(980, 20, BUCKETS))  # fmt: skip
    found = await targets(provider(tmp_path, {"api": server.url_for("/api")}))
    api = found["api"]
    assert api.status is RolloutStatus.READY
    assert (api.ready, api.desired, api.revision) == (2, 2, "v2.8.1")
    assert api.ref.environment == "production"
    assert api.metrics[ERROR_RATE] == pytest.approx(100 * 20 / 1000)
    # 990th of 1000 falls in (0.1, 0.5] holding 20 requests, the 10th of them: 0.3 s.
    assert api.metrics[P99] == pytest.approx(300.0)
    for check in ("health 200", "ready 200", "metrics 200"):
        assert check in api.message


async def test_an_unready_service_is_degraded_and_says_why(
    server: HTTPServer, tmp_path: Path
) -> None:
    serve(server, "/api", (200, {"status": "healthy"}), (503, {"status": "starting"}))
    api = (
        await targets(provider(tmp_path, {"api": server.url_for("/api")}, paths={"metrics": ""}))
    )["api"]
    assert api.status is RolloutStatus.DEGRADED
    assert (api.ready, api.desired) == (1, 2)
    assert api.message.startswith("not ready: HTTP 503")
    assert "metrics" not in api.message  # that probe was switched off


async def test_a_200_whose_body_says_down_fails_the_check(
    server: HTTPServer, tmp_path: Path
) -> None:
    serve(server, "/api", (200, {"status": "DOWN"}), (200, {"status": "ready"}))
    api = (
        await targets(provider(tmp_path, {"api": server.url_for("/api")}, paths={"metrics": ""}))
    )["api"]
    assert api.status is RolloutStatus.FAILED
    assert api.message.startswith("unhealthy: status DOWN")


async def test_a_500_fails_the_service_and_a_slow_one_times_out_alone(
    server: HTTPServer, tmp_path: Path
) -> None:
    released = threading.Event()

    def hang(request: Request) -> Response:
        released.wait(30)  # held until the test ends, far past the probe's deadline
        return Response("late")

    serve(server, "/ok", (200, {"status": "healthy"}), (200, {"status": "ready"}))
    serve(server, "/broken", (500, {"error": "db down"}), (500, {"error": "db down"}))
    server.expect_request("/slow/health").respond_with_handler(hang)
    server.expect_request("/slow/ready").respond_with_handler(hang)
    urls = {name: server.url_for(f"/{name}") for name in ("ok", "broken", "slow")}
    try:
        found = await targets(provider(tmp_path, urls, timeout=0.5, paths={"metrics": ""}))
    finally:
        released.set()
    assert found["ok"].status is RolloutStatus.READY
    assert found["broken"].status is RolloutStatus.FAILED
    assert found["broken"].message.startswith("unhealthy: HTTP 500")
    assert found["slow"].status is RolloutStatus.FAILED
    assert found["slow"].message.startswith("unhealthy: no answer in 0.5s")


async def test_garbage_is_a_failed_check_or_a_note_never_a_crash(
    server: HTTPServer, tmp_path: Path
) -> None:
    garbage = GarbageServer()
    serve(server, "/api", (200, {"status": "healthy"}), (200, {"status": "ready"}),
          "\x1b]52;c;b3duZWQ=\x07 this is {{ not } a metrics page\n")  # fmt: skip
    try:
        found = await targets(
            provider(tmp_path, {"api": server.url_for("/api"), "raw": garbage.url})
        )
    finally:
        garbage.close()
    api, raw = found["api"], found["raw"]
    assert api.status is RolloutStatus.READY and api.metrics == {}
    assert "metrics not Prometheus text" in api.message
    assert raw.status is RolloutStatus.FAILED
    assert raw.message.startswith("unhealthy: not an HTTP answer")
    assert "owned" not in raw.message  # the server's bytes never reach the row


async def test_a_closed_port_is_unreachable(tmp_path: Path) -> None:
    # Bound but not listening: connections are refused, and no other process can take
    # the port while the test runs.
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        found = await targets(
            provider(tmp_path, {"gone": f"http://127.0.0.1:{held.getsockname()[1]}"})
        )
    assert found["gone"].status is RolloutStatus.FAILED
    assert "connection refused or unreachable" in found["gone"].message


async def test_later_cycles_give_the_interval_figures_and_the_metrics_pane_plots(
    server: HTTPServer, tmp_path: Path
) -> None:
    pages = [
        exposition(980, 20, BUCKETS),
        # 1000 more requests, 100 of them failing, all slower than 0.1 s
        exposition(1880, 120, {"0.05": 900, "0.1": 980, "0.5": 1500, "+Inf": 2000}),
    ]
    server.expect_request("/api/health").respond_with_json({"status": "healthy"})
    server.expect_request("/api/ready").respond_with_json({"status": "ready"})
    server.expect_request("/api/metrics").respond_with_handler(
        lambda request: Response(pages[0] if len(server.log) < 4 else pages[1])
    )
    p = provider(tmp_path, {"api": server.url_for("/api")}, max_connections=1)
    try:
        first = await p.probe_all()
        second = await p.probe_all()
        series = {s.name: s for s in await p.metrics(first.targets[0].ref, timedelta(hours=1))}
    finally:
        await p.close()
    later = second.targets[0].metrics
    assert later[ERROR_RATE] == pytest.approx(100 * 100 / 1000)
    # of the interval's 1000 requests 990th falls in (0.5, +Inf]: the highest bound.
    assert later[P99] == pytest.approx(500.0)
    assert [v for _, v in series[ERROR_RATE].points] == [
        first.targets[0].metrics[ERROR_RATE],
        later[ERROR_RATE],
    ]
    assert len(series[P99].points) == 2


async def test_an_idle_interval_says_so_instead_of_inventing_figures(
    server: HTTPServer, tmp_path: Path
) -> None:
    serve(server, "/api", (200, {"status": "healthy"}), (200, {"status": "ready"}),
          exposition(980, 20, BUCKETS))  # fmt: skip
    p = provider(tmp_path, {"api": server.url_for("/api")})
    try:
        first = (await p.probe_all()).targets[0]
        idle = (await p.probe_all()).targets[0]  # the same counters: no request since
    finally:
        await p.close()
    assert first.metrics and idle.metrics == {}
    assert idle.message.endswith("no requests since the last probe")


async def test_no_more_probes_open_at_once_than_max_connections(
    server: HTTPServer, tmp_path: Path
) -> None:
    full = threading.Condition()
    open_now = [0, 0]  # in flight, most seen
    limit = 3

    def counted(request: Request) -> Response:
        with full:
            open_now[0] += 1
            open_now[1] = max(open_now[1], open_now[0])
            full.notify_all()
            # Hold the answer until as many probes are open as allowed (or a second
            # passes), so they overlap as far as the bound lets them.
            full.wait_for(lambda: open_now[0] >= limit, timeout=1.0)
        try:
            return Response(json.dumps({"status": "healthy"}), content_type="application/json")
        finally:
            with full:
                open_now[0] -= 1

    server.expect_request("/").respond_with_handler(counted)
    urls = {f"svc{i}": server.url_for("") for i in range(12)}
    p = provider(tmp_path, urls, max_connections=limit,
                 paths={"health": "/", "ready": "", "metrics": ""})  # fmt: skip
    found = await targets(p)
    assert all(t.status is RolloutStatus.READY for t in found.values())
    assert open_now[1] == limit


def test_settings_problems_name_the_key_and_never_the_url(tmp_path: Path) -> None:
    secret = "https://user:hunter2@health.example.com"
    problems = setting_problems(
        HealthProvider,
        {"urls": {"api": secret, "web": "ftp://x"}, "max_connections": 0,
         "paths": {"live": "/x", "ready": "ready"}, "interval": 0},
    )  # fmt: skip
    keys = sorted(k for k, _ in problems)
    assert keys == ["interval", "max_connections", "paths", "paths", "urls", "urls"]
    assert all("hunter2" not in m for _, m in problems)


def test_p99_interpolates_inside_its_bucket_as_histogram_quantile_does() -> None:
    buckets = [(0.1, 50.0), (0.2, 100.0), (float("inf"), 100.0)]
    # rank 99 of 100 lies 49/50 of the way through (0.1, 0.2]
    assert quantile(0.99, buckets) == pytest.approx(0.1 + 0.1 * 49 / 50)
    assert quantile(0.99, [(0.1, 0.0), (float("inf"), 0.0)]) is None
    assert quantile(0.99, [(0.1, 5.0)]) is None  # no +Inf bucket: not a histogram


def test_a_counter_that_went_down_means_a_restart_and_counts_from_zero() -> None:
    before = read(exposition(9000, 1000, BUCKETS), "http_requests_total",
                  "http_request_duration_seconds")  # fmt: skip
    after = read(exposition(95, 5, BUCKETS), "http_requests_total",
                 "http_request_duration_seconds")  # fmt: skip
    assert derive(after, before)[ERROR_RATE] == pytest.approx(5.0)


def test_a_histogram_in_milliseconds_is_not_scaled() -> None:
    page = (
        "# TYPE rpc_latency_milliseconds histogram\n"
        'rpc_latency_milliseconds_bucket{le="100"} 100\n'
        'rpc_latency_milliseconds_bucket{le="+Inf"} 100\n'
        "rpc_latency_milliseconds_count 100\nrpc_latency_milliseconds_sum 10\n"
    )
    scrape = read(page, "http_requests_total", "rpc_latency_milliseconds")
    assert scrape == Scrape(None, None, ((100.0, 100.0), (float("inf"), 100.0)), 1.0)
    assert derive(scrape)[P99] == pytest.approx(99.0)


def test_quorum_status_lists_the_probed_services(
    server: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(server, "/api", (200, {"status": "healthy", "version": "v3"}),
          (503, {"status": "warming up"}), exposition(99, 1, BUCKETS))  # fmt: skip
    config = tmp_path / "quorum.toml"
    config.write_text(
        f"""
[team]
members = ["alice"]

[[providers]]
name = "health"
kind = "health"
environment = "staging"
urls = {{ api = "{server.url_for("/api")}" }}
"""
    )
    assert main(["status", "--json", "--config", str(config)]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["service"], row["environment"], row["status"]) == ("api", "staging", "degraded")
    assert row["revision"] == "v3"


async def test_a_cycle_cut_off_by_the_refresh_deadline_goes_on_for_the_next_refresh(
    server: HTTPServer, tmp_path: Path
) -> None:
    released = threading.Event()

    def held(request: Request) -> Response:
        released.wait(30)
        return Response(json.dumps({"status": "healthy"}), content_type="application/json")

    server.expect_request("/api/health").respond_with_handler(held)
    p = provider(tmp_path, {"api": server.url_for("/api")}, paths={"ready": "", "metrics": ""})
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):  # the hub's deadline, cut short
                await p.snapshot()
        released.set()
        snap = await p.snapshot()  # the same cycle, finished meanwhile
    finally:
        released.set()
        await p.close()
    assert [t.status for t in snap.targets] == [RolloutStatus.READY]
    assert len(server.log) == 1  # one probe: the cycle was not started again
