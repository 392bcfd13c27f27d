"""The AWS blocks' settings: the example's blocks are valid, mistakes are one line each."""

from __future__ import annotations

import tomllib
from pathlib import Path

from console.cli.main import main
from console.config.provider_settings import setting_problems
from providers.aws import EcsProvider, StaticSiteProvider
from tests.config.test_config_example import EXAMPLE, commented_blocks


def test_the_examples_aws_blocks_are_valid() -> None:
    blocks = [tomllib.loads(b) for b in commented_blocks(EXAMPLE.read_text())]
    providers = {p["kind"]: p for doc in blocks for p in doc.get("providers", [])}
    assert setting_problems(EcsProvider, providers["ecs"]) == []
    assert setting_problems(StaticSiteProvider, providers["static-site"]) == []
    # Every ECS setting is shown in the example.
    assert {s.name for s in EcsProvider.declared_settings} <= providers["ecs"].keys() | {
        "call_timeout", "log_poll_interval", "rollout_interval"}  # fmt: skip


def test_bad_settings_are_named_with_file_and_line(tmp_path: Path, capsys) -> None:
    config = tmp_path / "quorum.toml"
    config.write_text(
        """
[[providers]]
name = "aws"
kind = "ecs"
max_concurrency = 500
endpoint_url = "localhost:4566"
environments = { production = 7 }
clusters = ["prod"]

[[providers]]
name = "sites"
kind = "static-site"
environments = { production = "docs" }
sites = { docs = { bucket = "docs" } }
"""
    )
    assert main(["config", "check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    for expected in (
        ":5: providers[0].max_concurrency: must be an integer from 1 to 32",
        ":6: providers[0].endpoint_url: must start with http:// or https://",
        "providers[0].environments: 'production': the cluster must be a non-empty string",
        "providers[0].clusters: unknown key 'clusters'",
        "providers[1].sites: 'docs': distribution must be a non-empty string",
        "providers[1].environments: a static site names its environment in `sites`",
    ):
        assert expected in err, err
