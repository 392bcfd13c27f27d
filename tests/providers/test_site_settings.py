"""`quorum config check` on the site kinds' blocks: each problem on its own line with
the file, line and key, and a token written into the block never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli.main import main


def check(tmp_path: Path, block: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    path = tmp_path / "quorum.toml"
    path.write_text('[team]\nmembers = ["alice"]\n' + block)
    code = main(["config", "check", "--config", str(path)])
    err = capsys.readouterr().err
    found = [
        line.removeprefix(f"{path}:") for line in err.splitlines() if line.startswith(f"{path}:")
    ]
    assert (code == 0) == (found == []), err
    return found


def test_good_blocks_of_each_kind_pass(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert check(tmp_path, """
[[providers]]
name = "vercel"
kind = "vercel"
projects = ["collective-site", "docs"]
team = "team_x"
token_env = "VERCEL_TOKEN"
environments = { production = "production", staging = "staging" }

[[providers]]
name = "netlify"
kind = "netlify"
site = "collective-site.netlify.app"
token_command = ["pass", "netlify"]

[[providers]]
name = "edge"
kind = "cloudflare"
account = "acc1"
token_env = "CLOUDFLARE_API_TOKEN"
""", capsys) == []  # fmt: skip


def test_each_problem_names_its_line_and_key(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert check(tmp_path, """
[[providers]]
name = "vercel"
kind = "vercel"
project = "a"
projects = ["b"]
token_env = "VERCEL_TOKEN"

[[providers]]
name = "netlify"
kind = "netlify"
token_env = "NETLIFY_AUTH_TOKEN"
sitess = ["x"]

[[providers]]
name = "edge"
kind = "cloudflare"
load_balancer = "www.example.org"
token_env = "CLOUDFLARE_API_TOKEN"
""", capsys) == [
        "8: providers[0].projects: cannot be combined with project: choose one",
        '11: providers[1].site: a site is needed: site = "name.netlify.app" or sites = [...]',
        "15: providers[1].sitess: unknown key 'sitess'; did you mean 'sites'?",
        "17: providers[2].account: required key is missing",
        "20: providers[2].load_balancer: needs zone: load balancers belong to a zone",
    ]  # fmt: skip
