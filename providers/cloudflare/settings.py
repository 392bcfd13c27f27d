"""The settings of one Cloudflare load-balancing provider block."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from providers.base import Setting
from providers.http import settings as http

DEFAULT_URL = "https://api.cloudflare.com/client/v4"
# What a [[providers]] block of kind "cloudflare" may say besides name, kind and
# readonly; Quorum checks the types.
DECLARED = (
    Setting("account", "string", None, "the account id the pools belong to", required=True),
    Setting("zone", "string", None, "the zone id of the load balancer (its pool order)"),
    Setting(
        "load_balancer", "string", None, "the load balancer's hostname (default: the only one)"
    ),
    Setting("service", "string", "site", "the service the load balancer's row belongs to"),
    Setting("environment", "string", "production", "the environment of that row"),
    *http.DECLARED,
)


@dataclass(frozen=True)
class Settings:
    http: http.HttpSettings
    account: str
    zone: str | None = None
    load_balancer: str | None = None
    service: str = "site"
    environment: str = "production"


def check(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The problems beyond the declared types as (key, message); empty when usable."""
    problems = http.check(settings)
    for key in ("account", "zone", "load_balancer", "service", "environment"):
        value = settings.get(key)
        if isinstance(value, str) and not value.strip():
            problems.append((key, "must not be empty"))
    if "load_balancer" in settings and "zone" not in settings:
        problems.append(("load_balancer", "needs zone: load balancers belong to a zone"))
    return problems


def parse(settings: Mapping[str, Any]) -> Settings:
    return Settings(
        http=http.parse(settings, DEFAULT_URL),
        account=str(settings.get("account") or ""),
        zone=settings.get("zone"),
        load_balancer=settings.get("load_balancer"),
        service=settings.get("service") or "site",
        environment=settings.get("environment") or "production",
    )
