"""A canary beside a service, probed like the service itself on real local servers:
its revision, its own error rate and its share of the requests, and the team's rule
on them (under 1 % promote, over 5 % roll back, between wait) on the row and in
`quorum status`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from console.cli.main import main
from console.config.provider_settings import setting_problems
from console.domain.settings import Config
from console.engine.hub import ProviderState
from console.tui.views import service_views
from providers.base import ProviderContext
from providers.health import HealthProvider
from tests.health_support import exposition, threaded_server

BUCKETS = {"0.05": 900, "0.1": 980, "0.5": 1000, "+Inf": 1000}


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    yield from threaded_server()


def serve(server: HTTPServer, prefix: str, version: str, ok: int, errors: int) -> None:
    server.expect_request(f"{prefix}/health").respond_with_json(
        {"status": "healthy", "version": version}
    )
    server.expect_request(f"{prefix}/ready").respond_with_json({"status": "ready"})
    server.expect_request(f"{prefix}/metrics").respond_with_data(
        exposition(ok, errors, BUCKETS), content_type="text/plain; version=0.0.4"
    )


def settings(server: HTTPServer) -> dict[str, object]:
    return {
        "urls": {"api": server.url_for("/api")},
        "canaries": {"api": server.url_for("/api-canary")},
    }


@pytest.mark.parametrize(
    ("errors", "rate", "verdict"),
    [(5, 0.5, "promote"), (30, 3.0, "wait"), (10, 1.0, "wait"), (80, 8.0, "roll back")],
)
async def test_the_canarys_error_rate_decides_promote_wait_or_roll_back(
    server: HTTPServer, tmp_path: Path, errors: int, rate: float, verdict: str
) -> None:
    serve(server, "/api", "v2.8.1", 8990, 10)
    serve(server, "/api-canary", "v2.9.0", 1000 - errors, errors)
    block = settings(server)
    assert setting_problems(HealthProvider, block) == []
    p = HealthProvider("health", block, ProviderContext(data_dir=tmp_path))
    try:
        snap = await p.snapshot()
    finally:
        await p.close()
    (api,) = snap.targets
    assert api.revision == "v2.8.1"
    assert api.canary is not None
    assert (api.canary.revision, api.canary.share) == ("v2.9.0", 10.0)
    assert api.canary.error_rate == pytest.approx(rate)
    state = ProviderState("health", "health", snap, last_ok=snap.taken_at)
    (view,) = service_views([state], Config())
    assert view.verdict == verdict
    assert view.canary.startswith("canary v2.9.0 (10% of traffic): errors ")
    assert view.canary.endswith(f"→ {verdict}")


def test_quorum_status_gives_the_verdict_with_the_numbers(
    server: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(server, "/api", "v2.8.1", 900, 100)
    serve(server, "/api-canary", "v2.9.0", 94, 6)
    config = tmp_path / "quorum.toml"
    config.write_text(
        f"""
[team]
members = ["alice"]

[[providers]]
name = "health"
kind = "health"
urls = {{ api = "{server.url_for("/api")}" }}
canaries = {{ api = "{server.url_for("/api-canary")}" }}
"""
    )
    assert main(["status", "--json", "--config", str(config)]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["canary"] == {
        "revision": "v2.9.0",
        "share": pytest.approx(100 * 100 / 1100, abs=0.1),
        "error_rate": 6.0,
        "verdict": "roll back",
    }
    assert main(["status", "--config", str(config)]) == 0
    assert "canary: roll back" in capsys.readouterr().out


def test_a_canary_of_an_unknown_service_is_a_settings_problem(server: HTTPServer) -> None:
    block = {"urls": {"api": server.url_for("/api")}, "canaries": {"web": "http://x.invalid"}}
    assert setting_problems(HealthProvider, block) == [("canaries", "web: not a service of urls")]
