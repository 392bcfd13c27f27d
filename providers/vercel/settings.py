"""The settings of one Vercel provider block."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.base import Setting
from providers.ci import settings as ci
from providers.http import settings as http

DEFAULT_URL = "https://api.vercel.com"
# Without `environments`, Quorum's production and preview are Vercel's own targets.
DEFAULT_ENVIRONMENTS = {"production": "production", "preview": "preview"}
PRODUCTION = "production"
# What a [[providers]] block of kind "vercel" may say besides name, kind, readonly and
# environments = { env = Vercel target }; Quorum checks the types.
DECLARED = (
    Setting("project", "string", None, "one project, by id (prj_...) or name"),
    Setting("projects", "array", None, "instead: several projects"),
    Setting("team", "string", None, "the team id (team_...) of team projects"),
    Setting("services", "table", None, "project = service (default: the project)"),
    *http.DECLARED,
)


@dataclass(frozen=True)
class Settings:
    http: http.HttpSettings
    projects: tuple[str, ...]
    team: str | None = None
    services: dict[str, str] = field(default_factory=dict)  # project -> service name
    # Quorum environment -> Vercel target (production, preview or a custom environment)
    environments: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ENVIRONMENTS))

    def service_of(self, project: str) -> str:
        return self.services.get(project) or project


def check(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The problems beyond the declared types as (key, message); empty when usable."""
    problems = http.check(settings)
    if "project" in settings and "projects" in settings:
        problems.append(("projects", "cannot be combined with project: choose one"))
    problems += ci.names(settings, "projects", "projects")
    if not _projects(settings) and not any(k in ("project", "projects") for k, _ in problems):
        problems.append(("project", 'a project is needed: project = "prj_..." or projects = [...]'))
    problems += ci.table(settings, "services", "service name")
    problems += ci.table(settings, "environments", "Vercel target")
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
        team=settings.get("team"),
        services=dict(settings.get("services") or {}),
        environments=dict(settings.get("environments") or DEFAULT_ENVIRONMENTS),
    )
