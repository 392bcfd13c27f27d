"""The settings of one GitHub Actions provider block.

One block covers one or more repositories of one GitHub (github.com or an
Enterprise Server at `api_url`), with one token. Each repository's targets are
the workflows named in `workflows`, each serving one Quorum environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.base import Setting
from providers.ci import settings as ci
from providers.http import settings as http

DEFAULT_URL = "https://api.github.com"
ROLLBACK_MODES = ("dispatch", "rerun")
# What a [[providers]] block of kind "github" may say besides name, kind, readonly and
# environments = { env = GitHub environment }; Quorum checks the types.
DECLARED = (
    Setting("repo", "string", None, "one repository, owner/name"),
    Setting("repos", "array", None, "instead: several repositories"),
    Setting("workflows", "table", None, "FILE or FILE@BRANCH = environment", required=True),
    Setting("branch", "string", None, "only runs on this branch (default: any)"),
    Setting("services", "table", None, "owner/name = service (default: the name)"),
    Setting("dispatch_ref", "string", "main", "the ref a deploy dispatches on"),
    Setting("dispatch_inputs", "table", None, "workflow_dispatch inputs; {revision}..."),
    Setting("rollback", "string", "dispatch", "how to roll back", choices=ROLLBACK_MODES),
    *http.DECLARED,
)


@dataclass(frozen=True)
class Settings:
    http: http.HttpSettings
    repos: tuple[str, ...]
    # workflow file (or id), optionally `@branch` -> the Quorum environment its runs serve
    workflows: dict[str, str]
    branch: str | None = None
    services: dict[str, str] = field(default_factory=dict)  # repo -> service name
    dispatch_ref: str = "main"
    dispatch_inputs: dict[str, str] = field(default_factory=dict)
    rollback: str = "dispatch"
    # Quorum environment -> GitHub environment (deployments, pending approvals)
    environments: dict[str, str] = field(default_factory=dict)

    def workflow_file(self, key: str) -> str:
        """`deploy.yml` of the workflows key `deploy.yml@release`."""
        return key.partition("@")[0]

    def branch_of(self, key: str) -> str | None:
        """The branch a workflows key follows: its own `@branch`, else `branch`, else any."""
        return key.partition("@")[2] or self.branch

    def dispatch_ref_of(self, key: str) -> str:
        """A deploy dispatches on the key's own branch where it names one."""
        return key.partition("@")[2] or self.dispatch_ref

    def service_of(self, repo: str) -> str:
        return self.services.get(repo) or repo.rsplit("/", 1)[-1]

    def github_environment(self, environment: str) -> str:
        return self.environments.get(environment, environment)

    def quorum_environment(self, github_env: str) -> str:
        for env, name in self.environments.items():
            if name == github_env:
                return env
        return github_env


def check(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The problems beyond the declared types as (key, message); empty when usable."""
    problems = http.check(settings)
    if "repo" in settings and "repos" in settings:
        problems.append(("repos", "cannot be combined with repo: choose one"))
    problems += ci.names(settings, "repos", "owner/name repositories")
    repos = _repos(settings)
    if not repos and not any(k in ("repo", "repos") for k, _ in problems):
        problems.append(("repo", 'a repository is needed: repo = "owner/name" or repos = [...]'))
    key = "repo" if "repo" in settings else "repos"
    for repo in repos:
        if repo.count("/") != 1 or repo.startswith("/") or repo.endswith("/"):
            problems.append((key, f"{repo!r}: write owner/name"))
    problems += ci.table(settings, "workflows", "Quorum environment")
    workflows = settings.get("workflows")
    if isinstance(workflows, Mapping):
        for key in workflows:
            file, at, branch = str(key).partition("@")
            if not file.strip() or (at and not branch.strip()):
                problems.append(("workflows", f"{key!r}: write FILE or FILE@BRANCH"))
        served = [v for v in workflows.values() if isinstance(v, str)]
        for env in sorted({e for e in served if served.count(e) > 1}):
            problems.append(("workflows", f"two workflows serve environment {env!r}"))
    problems += ci.table(settings, "services", "service name")
    problems += ci.table(settings, "environments", "GitHub environment")
    problems += ci.templates(settings, "dispatch_inputs")
    return problems


def _repos(settings: Mapping[str, Any]) -> list[str]:
    if isinstance(settings.get("repo"), str) and settings["repo"].strip():
        return [settings["repo"]]
    value = settings.get("repos")
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def parse(settings: Mapping[str, Any]) -> Settings:
    """Settings from a checked mapping (see `check`)."""
    return Settings(
        http=http.parse(settings, DEFAULT_URL),
        repos=tuple(_repos(settings)),
        workflows={str(k): str(v) for k, v in (settings.get("workflows") or {}).items()},
        branch=settings.get("branch"),
        services=dict(settings.get("services") or {}),
        dispatch_ref=settings.get("dispatch_ref") or "main",
        dispatch_inputs=dict(settings.get("dispatch_inputs") or {}),
        rollback=settings.get("rollback") or "dispatch",
        environments=dict(settings.get("environments") or {}),
    )
