"""The settings of one Netlify provider block."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.base import Setting
from providers.ci import settings as ci
from providers.http import settings as http

DEFAULT_URL = "https://api.netlify.com/api/v1"
# What a [[providers]] block of kind "netlify" may say besides name, kind and readonly;
# Quorum checks the types.
DECLARED = (
    Setting("site", "string", None, "one site, by id or name.netlify.app"),
    Setting("sites", "array", None, "instead: several sites"),
    Setting("environment", "string", "production", "the environment production deploys serve"),
    Setting("services", "table", None, "site = service (default: the site's name)"),
    *http.DECLARED,
)


@dataclass(frozen=True)
class Settings:
    http: http.HttpSettings
    sites: tuple[str, ...]
    environment: str = "production"
    services: dict[str, str] = field(default_factory=dict)  # site -> service name

    def service_of(self, site: str) -> str:
        return self.services.get(site) or site.removesuffix(".netlify.app")


def check(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The problems beyond the declared types as (key, message); empty when usable."""
    problems = http.check(settings)
    if "site" in settings and "sites" in settings:
        problems.append(("sites", "cannot be combined with site: choose one"))
    problems += ci.names(settings, "sites", "sites")
    if not _sites(settings) and not any(k in ("site", "sites") for k, _ in problems):
        problems.append(("site", 'a site is needed: site = "name.netlify.app" or sites = [...]'))
    problems += ci.table(settings, "services", "service name")
    if isinstance(settings.get("environment"), str) and not settings["environment"].strip():
        problems.append(("environment", "must name an environment"))
    return problems


def _sites(settings: Mapping[str, Any]) -> list[str]:
    if isinstance(settings.get("site"), str) and settings["site"].strip():
        return [settings["site"]]
    value = settings.get("sites")
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def parse(settings: Mapping[str, Any]) -> Settings:
    return Settings(
        http=http.parse(settings, DEFAULT_URL),
        sites=tuple(_sites(settings)),
        environment=settings.get("environment") or "production",
        services=dict(settings.get("services") or {}),
    )
