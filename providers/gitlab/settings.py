"""The settings of one GitLab CI provider block (gitlab.com or self-managed at `api_url`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from providers.base import Setting
from providers.ci import settings as ci
from providers.http import settings as http

DEFAULT_URL = "https://gitlab.com/api/v4"
# What a [[providers]] block of kind "gitlab" may say besides name, kind, readonly and
# environments = { env = GitLab environment }; Quorum checks the types.
DECLARED = (
    Setting("project", "string", None, "one project, group/name"),
    Setting("projects", "array", None, "instead: several projects"),
    Setting("ref", "string", None, "the branch whose pipelines are shown (default: any)"),
    Setting("pipeline_environment", "string", "ci", "the environment pipelines are shown in"),
    Setting("services", "table", None, "group/name = service (default: the name)"),
    Setting("deploy_jobs", "table", None, "environment = the manual job a deploy plays"),
    Setting("pages", "string", None, "the environment a read-only GitLab Pages row is shown in"),
    *http.DECLARED,
)


@dataclass(frozen=True)
class Settings:
    http: http.HttpSettings
    projects: tuple[str, ...]
    ref: str | None = None
    # the Quorum environment the latest pipeline is shown under
    pipeline_environment: str = "ci"
    services: dict[str, str] = field(default_factory=dict)  # project -> service name
    # Quorum environment -> GitLab environment (deployments and their approvals)
    environments: dict[str, str] = field(default_factory=dict)
    # Quorum environment -> the manual job a deploy plays
    deploy_jobs: dict[str, str] = field(default_factory=dict)
    # the Quorum environment of each project's GitLab Pages row; None: no such row
    pages: str | None = None

    def service_of(self, project: str) -> str:
        return self.services.get(project) or project.rsplit("/", 1)[-1]

    def quorum_environment(self, gitlab_env: str) -> str:
        for env, name in self.environments.items():
            if name == gitlab_env:
                return env
        return gitlab_env


def project_path(project: str) -> str:
    """`projects/group%2Fname`: a project's full path is one URL-encoded segment."""
    return f"projects/{quote(project, safe='')}"


def check(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The problems beyond the declared types as (key, message); empty when usable."""
    problems = http.check(settings)
    if "project" in settings and "projects" in settings:
        problems.append(("projects", "cannot be combined with project: choose one"))
    problems += ci.names(settings, "projects", "group/name projects")
    if not _projects(settings) and not any(k in ("project", "projects") for k, _ in problems):
        problems.append(
            ("project", 'a project is needed: project = "group/name" or projects = [...]')
        )
    problems += ci.table(settings, "services", "service name")
    problems += ci.table(settings, "environments", "GitLab environment")
    problems += ci.table(settings, "deploy_jobs", "job name")
    pipeline_env = settings.get("pipeline_environment", "ci")
    environments = settings.get("environments")
    if isinstance(environments, Mapping) and pipeline_env in environments:
        problems.append(
            ("pipeline_environment", f"{pipeline_env!r} is also a deployment environment")
        )
    pages = settings.get("pages")
    if isinstance(pages, str):
        if not pages.strip():
            problems.append(("pages", "must name the environment of the Pages row"))
        elif pages == pipeline_env or (isinstance(environments, Mapping) and pages in environments):
            problems.append(("pages", f"{pages!r} already shows a pipeline or a deployment"))
    return problems


def _projects(settings: Mapping[str, Any]) -> list[str]:
    if isinstance(settings.get("project"), str) and settings["project"].strip():
        return [settings["project"]]
    value = settings.get("projects")
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def parse(settings: Mapping[str, Any]) -> Settings:
    return Settings(
        http=http.parse(settings, DEFAULT_URL),
        projects=tuple(_projects(settings)),
        ref=settings.get("ref"),
        pipeline_environment=settings.get("pipeline_environment") or "ci",
        services=dict(settings.get("services") or {}),
        environments=dict(settings.get("environments") or {}),
        deploy_jobs=dict(settings.get("deploy_jobs") or {}),
        pages=settings.get("pages") or None,
    )
