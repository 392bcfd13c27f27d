"""The Prometheus provider against the real Prometheus server (Debian's package)
scraping an exporter run by the test: per-service PromQL templated with service and
environment, one batched query per metric for the rows, range queries for the plots."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from console.config.provider_settings import setting_problems
from console.domain.model import CPU, ERROR_RATE, RolloutStatus
from providers.base import BadResponse, ProviderContext
from providers.prometheus import PrometheusProvider
from providers.prometheus.settings import render
from tests.ci_support import loopback_server
from tests.prometheus_support import Exporter, run_prometheus

ERRORS = (
    'sum by (service) (rate(http_requests_total{{service=~"{{service}}",env="{{environment}}",'
    'code=~"5.."}}[{w}])) / sum by (service) (rate(http_requests_total{{service=~"{{service}}",'
    'env="{{environment}}"}}[{w}])) * 100'
).format(w="30s")
CPU_QUERY = 'max by (service) (cpu_percent{service=~"{service}",env="{environment}"})'


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    for exporter_server in loopback_server():
        Exporter(exporter_server)
        target = f"127.0.0.1:{exporter_server.port}"
        yield from run_prometheus(tmp_path_factory.mktemp("prometheus"), target)


def provider(url: str, tmp_path: Path, **extra: object) -> PrometheusProvider:
    settings = {
        "api_url": url,
        "services": ["api", "web", "gone"],
        "service_label": "service",
        "environments": {"production": "production", "staging": "staging"},
        "queries": {"error_rate": ERRORS, "cpu": CPU_QUERY},
        **extra,
    }
    assert setting_problems(PrometheusProvider, settings) == []
    return PrometheusProvider("metrics", settings, ProviderContext(data_dir=tmp_path))


async def test_rows_come_from_one_batched_query_per_metric_and_environment(
    prometheus: str, tmp_path: Path
) -> None:
    p = provider(prometheus, tmp_path)
    try:
        snap = await p.snapshot()
    finally:
        await p.close()
    rows = {(t.ref.service, t.ref.environment): t for t in snap.targets}
    assert len(rows) == 6
    api = rows[("api", "production")]
    assert api.metrics[ERROR_RATE] == pytest.approx(10.0, abs=0.01)
    assert api.metrics[CPU] == pytest.approx(42.5)
    assert rows[("web", "production")].metrics == {ERROR_RATE: 0.0, CPU: 7.25}
    assert rows[("api", "staging")].metrics == {ERROR_RATE: pytest.approx(10.0, abs=0.01)}
    assert rows[("gone", "production")].metrics == {}
    assert rows[("gone", "production")].message == "no figures from Prometheus"
    assert all(t.status is RolloutStatus.UNKNOWN for t in snap.targets)
    # 2 metrics x 2 environments, whatever the number of services
    assert p.client.stats.sent == 4


async def test_the_plots_are_range_queries_of_the_one_service(
    prometheus: str, tmp_path: Path
) -> None:
    p = provider(prometheus, tmp_path)
    try:
        [row] = [t for t in (await p.snapshot()).targets if t.ref.key.endswith("/api/production")]
        series = {s.name: s for s in await p.metrics(row.ref, timedelta(minutes=5))}
    finally:
        await p.close()
    assert set(series) == {ERROR_RATE, CPU}
    assert len(series[CPU].points) >= 2
    assert {v for _, v in series[CPU].points} == {42.5}
    times = [at for at, _ in series[CPU].points]
    assert times == sorted(times)


async def test_a_query_prometheus_refuses_is_one_line(prometheus: str, tmp_path: Path) -> None:
    p = provider(
        prometheus, tmp_path, queries={"cpu": 'max by (service) (cpu{service=~"{service}"'}
    )
    try:
        with pytest.raises(BadResponse) as caught:
            await p.snapshot()
    finally:
        await p.close()
    assert "400" in str(caught.value) and "\n" not in str(caught.value)


def test_a_service_name_is_matched_literally_in_the_batched_regex() -> None:
    query = render('up{job=~"{service}",env="{environment}"}', ("a.b", 'q"x'), 'p"d')
    assert query == 'up{job=~"a\\\\.b|q\\"x",env="p\\"d"}'


def test_settings_problems() -> None:
    problems = setting_problems(
        PrometheusProvider,
        {"services": [], "queries": {"cpu": "up", "latency": "x{service}"},
         "service_label": "a-b", "environments": {"production": 3}},
    )  # fmt: skip
    assert sorted(k for k, _ in problems) == [
        "environments",
        "queries",
        "queries",
        "service_label",
        "services",
    ]
