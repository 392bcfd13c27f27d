"""`quorum config check` on GitHub and GitLab blocks: a token written in the file is
refused by its key and by its shape and never echoed; every other problem names
its line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli.main import main
from console.domain.identity import current_identity

GH_TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
GL_TOKEN = "glpat-abcdefghijklmnopqrstuvwx"


def check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    path = tmp_path / "quorum.toml"
    path.write_text(text)
    code = main(["config", "check", "--config", str(path)])
    err = capsys.readouterr().err
    assert GH_TOKEN not in err and GL_TOKEN not in err
    return code, [line.split(": ", 1)[1] for line in err.splitlines() if ": " in line]


def test_tokens_in_the_config_text_are_refused(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    code, problems = check(
        tmp_path,
        f"""
[[providers]]
name = "ci"
kind = "github"
repo = "collective/website"
workflows = {{ "ci.yml" = "ci" }}
token = "{GH_TOKEN}"

[[providers]]
name = "gitlab"
kind = "gitlab"
project = "collective/website"
token_env = "{GL_TOKEN}"
""",
        capsys,
    )
    assert code == 2
    assert (
        "providers[0].token: secrets are never written in the config; "
        "name an environment variable with token_env" in problems
    )
    assert any(p.startswith("providers[1].token_env: secrets are never written") for p in problems)


def test_ci_blocks_name_each_problem(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    code, problems = check(
        tmp_path,
        """
[policy.production]
forward_after_quorum = "yes"

[[providers]]
name = "ci"
kind = "github"
repo = "collective"
token_env = "GITHUB_TOKEN"
rollback = "revert"
workflow = { "ci.yml" = "ci" }
api_url = "https://me:pw@github.example/api/v3"
dispatch_inputs = { revision = "{sha}" }

[[providers]]
name = "gitlab"
kind = "gitlab"
token_command = []
""",
        capsys,
    )
    assert code == 2
    expected = [
        "policy.production.forward_after_quorum: expected true or false, got a string",
        "providers[0].repo: 'collective': write owner/name",
        "providers[0].workflows: required key is missing",
        "providers[0].rollback: must be one of dispatch, rerun, not 'revert'",
        "providers[0].api_url: must not carry credentials; name a token with token_env",
        "providers[0].dispatch_inputs: 'revision': a template may name only {revision}, "
        "{environment}, {service}, {ref}",
        "providers[1].token_command: expected the program and its arguments, none of them empty",
        'providers[1].project: a project is needed: project = "group/name" or projects = [...]',
    ]
    for line in expected:
        assert line in problems, (line, problems)
    assert "providers[0].workflow: unknown key 'workflow'; did you mean 'workflows'?" in problems


def test_a_valid_ci_config_checks_clean(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    code, problems = check(
        tmp_path,
        f"""
[team]
members = ["alice", "bob", "{current_identity().name}"]

[policy.production]
min_approvals = 2
forward_after_quorum = true

[[providers]]
name = "ci"
kind = "github"
repos = ["collective/website", "collective/bluesky-tools"]
token_command = ["gh", "auth", "token"]
workflows = {{ "ci.yml" = "ci", "production.yml" = "production" }}
rollback = "rerun"

[[providers]]
name = "gitlab"
kind = "gitlab"
project = "collective/website"
token_env = "GITLAB_TOKEN"
environments = {{ production = "production" }}
deploy_jobs = {{ production = "deploy-production" }}
""",
        capsys,
    )
    assert (code, problems) == (0, [])
