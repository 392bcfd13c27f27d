"""A target nobody serves: the near name and what exists, in one line (exit 2)."""

from __future__ import annotations

import json

import pytest

from console.cli.main import main
from console.domain.suggest import listing, nearest
from console.engine.targets import unknown_target


def _targets(capsys: pytest.CaptureFixture[str]) -> dict[str, set[str]]:
    assert main(["status", "--sandbox", "--json"]) == 0
    found: dict[str, set[str]] = {}
    for row in json.loads(capsys.readouterr().out):
        found.setdefault(row["service"], set()).add(row["environment"])
    return found


def _error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main([*argv, "--sandbox"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    return err


def test_a_misspelt_service_is_named_with_every_service(
    capsys: pytest.CaptureFixture[str],
) -> None:
    services = _targets(capsys)
    assert "api" in services and len(services) <= 12
    err = _error(capsys, "logs", "apii", "--env", "production")
    assert "did you mean 'api'?" in err
    listed = err.split("(services: ", 1)[1].rstrip(")\n").split(", ")
    assert listed == sorted(services)
    assert "more" not in err


def test_an_abbreviated_environment_lists_where_the_service_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    environments = _targets(capsys)["api"]
    err = _error(capsys, "deploy", "api", "--env", "prod", "--revision", "v9.9.9")
    assert "no service 'api' in environment 'prod'; did you mean 'production'?" in err
    listed = err.split("(api runs in: ", 1)[1].rstrip(")\n").split(", ")
    assert listed == sorted(environments)


def test_an_environment_the_service_lacks_suggests_nothing_far_fetched(
    capsys: pytest.CaptureFixture[str],
) -> None:
    targets = _targets(capsys)
    service = next(s for s, envs in sorted(targets.items()) if "dev" not in envs)
    err = _error(capsys, "describe", service, "--env", "dev")
    assert "did you mean" not in err
    assert f"({service} runs in: {', '.join(sorted(targets[service]))})" in err


def test_a_long_list_shows_its_start_and_how_many_more() -> None:
    services = {f"svc-{n:02}": {"production"} for n in range(30)}
    line = unknown_target("nothing-like-it", "production", services, [])
    shown = line.split("(services: ", 1)[1].split(" …and ")[0].split(", ")
    assert shown == sorted(services)[: len(shown)]
    assert line.endswith(f"…and {len(services) - len(shown)} more)")
    assert "did you mean" not in line


def test_providers_that_did_not_answer_are_named() -> None:
    line = unknown_target("api", "production", {"web": {"production"}}, ["main-cluster"])
    assert line.endswith("; providers that did not answer: main-cluster")
    assert unknown_target("api", "production", {}, ["k"]).startswith(
        "no service 'api' in environment 'production'; no targets could be read"
    )


def test_nearest_prefers_the_one_name_a_prefix_abbreviates() -> None:
    assert nearest("prod", ["dev", "staging", "production"]) == "production"
    assert nearest("st", ["staging", "status-page"]) is None  # two fit: no guess
    assert nearest("qqq", ["dev", "staging"]) is None
    assert listing(["b", "a", "a"]) == "a, b"
