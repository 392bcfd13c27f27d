"""The settings of the AWS providers, validated before anything connects.

One block is one account and region (a profile, or the standard credential chain),
so several accounts and regions show side by side, each under its own name. Nothing
here imports boto3: a config is checked without loading the SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CONNECTION_KEYS = frozenset(
    {"profile", "region", "endpoint_url", "max_concurrency", "call_timeout", "readonly"}
)
ECS_KEYS = CONNECTION_KEYS | {
    "environments",
    "services",
    "poll_interval",
    "metrics_interval",
    "stuck_after",
    "log_poll_interval",
    "rollout_timeout",
    "rollout_interval",
}
SITE_KEYS = CONNECTION_KEYS | {"sites", "poll_interval"}
SITE_FIELDS = frozenset({"bucket", "distribution", "environment", "prefix"})

DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 32


@dataclass(frozen=True)
class Connection:
    """Where the calls go and with whose credentials; never the credentials themselves."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    max_concurrency: int = DEFAULT_CONCURRENCY
    call_timeout: float = 20.0

    @property
    def profile_label(self) -> str:
        return f"profile {self.profile}" if self.profile else "the default credential chain"

    @property
    def login_hint(self) -> str:
        """What to run to get credentials again."""
        if self.profile:
            return f"aws sso login --profile {self.profile}"
        return "aws sso login (or set AWS_PROFILE / AWS_ACCESS_KEY_ID)"


@dataclass(frozen=True)
class EcsSettings:
    connection: Connection
    # environment -> cluster; empty means every cluster, each its own environment.
    environments: dict[str, str] = field(default_factory=dict)
    # ECS service name -> Quorum service name, for services named otherwise.
    services: dict[str, str] = field(default_factory=dict)
    poll_interval: float = 15.0
    metrics_interval: float = 60.0
    stuck_after: float = 1800.0
    log_poll_interval: float = 2.0
    # How long an action follows the deployment it started (0: not at all), how often.
    rollout_timeout: float = 900.0
    rollout_interval: float = 5.0

    def environment_of(self, cluster: str) -> str:
        for env, name in self.environments.items():
            if name == cluster:
                return env
        return cluster

    def service_of(self, ecs_name: str) -> str:
        return self.services.get(ecs_name, ecs_name)


@dataclass(frozen=True)
class Site:
    name: str
    bucket: str
    distribution: str
    environment: str = "production"
    prefix: str = ""


@dataclass(frozen=True)
class SiteSettings:
    connection: Connection
    sites: tuple[Site, ...] = ()
    poll_interval: float = 30.0


def _string(settings: Mapping[str, Any], key: str) -> list[tuple[str, str]]:
    value = settings.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        return [(key, "must be a non-empty string")]
    return []


def _number(settings: Mapping[str, Any], key: str, low: float, high: float) -> list:
    value = settings.get(key)
    if value is None:
        return []
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        return [(key, f"must be a number from {low:g} to {high:g}")]
    return []


def _unknown(settings: Mapping[str, Any], known: frozenset[str]) -> list[tuple[str, str]]:
    allowed = known | {"name", "kind", "environments"}
    return [
        (key, f"unknown setting (known: {', '.join(sorted(known))})")
        for key in settings
        if key not in allowed
    ]


def _check_connection(settings: Mapping[str, Any], known: frozenset[str]) -> list:
    problems = _unknown(settings, known)
    for key in ("profile", "region", "endpoint_url"):
        problems += _string(settings, key)
    url = settings.get("endpoint_url")
    if isinstance(url, str) and url.strip() and not url.startswith(("http://", "https://")):
        problems.append(("endpoint_url", "must start with http:// or https://"))
    value = settings.get("max_concurrency")
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY
    ):
        problems.append(("max_concurrency", f"must be an integer from 1 to {MAX_CONCURRENCY}"))
    problems += _number(settings, "call_timeout", 1, 300)
    if "readonly" in settings and not isinstance(settings["readonly"], bool):
        problems.append(("readonly", "must be true or false"))
    return problems


def _check_mapping(settings: Mapping[str, Any], key: str, what: str) -> list[tuple[str, str]]:
    value = settings.get(key)
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [(key, f"must be a table of name = {what}")]
    return [
        (key, f"{name!r}: the {what} must be a non-empty string")
        for name, item in value.items()
        if not isinstance(item, str) or not item.strip()
    ]


def check_ecs(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every problem with an `ecs` block as (key, message); empty when usable."""
    problems = _check_connection(settings, ECS_KEYS)
    problems += _check_mapping(settings, "environments", "cluster")
    problems += _check_mapping(settings, "services", "service name")
    problems += _number(settings, "poll_interval", 1, 3600)
    problems += _number(settings, "metrics_interval", 10, 3600)
    problems += _number(settings, "stuck_after", 60, 86400)
    problems += _number(settings, "log_poll_interval", 0.2, 60)
    problems += _number(settings, "rollout_timeout", 0, 7200)
    problems += _number(settings, "rollout_interval", 0.1, 60)
    return problems


def check_sites(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every problem with a `static-site` block as (key, message); empty when usable."""
    problems = _check_connection(settings, SITE_KEYS)
    if "environments" in settings:
        problems.append(("environments", "a static site names its environment in `sites`"))
    problems += _number(settings, "poll_interval", 1, 3600)
    sites = settings.get("sites")
    if not isinstance(sites, Mapping) or not sites:
        return [*problems, ("sites", "must be a table of name = { bucket, distribution }")]
    for name, site in sites.items():
        if not isinstance(site, Mapping):
            problems.append(("sites", f"{name!r}: must be a table with bucket and distribution"))
            continue
        for key in site:
            if key not in SITE_FIELDS:
                problems.append(
                    ("sites", f"{name!r}: unknown key {key!r} (known: {sorted(SITE_FIELDS)})")
                )
        for key in ("bucket", "distribution"):
            if not isinstance(site.get(key), str) or not site[key].strip():
                problems.append(("sites", f"{name!r}: {key} must be a non-empty string"))
        for key in ("environment", "prefix"):
            if key in site and not isinstance(site[key], str):
                problems.append(("sites", f"{name!r}: {key} must be a string"))
    return problems


def parse_connection(settings: Mapping[str, Any]) -> Connection:
    return Connection(
        profile=settings.get("profile"),
        region=settings.get("region"),
        endpoint_url=settings.get("endpoint_url"),
        max_concurrency=int(settings.get("max_concurrency", DEFAULT_CONCURRENCY)),
        call_timeout=float(settings.get("call_timeout", 20.0)),
    )


def parse_ecs(settings: Mapping[str, Any]) -> EcsSettings:
    """Settings from a checked mapping (see `check_ecs`)."""
    defaults = EcsSettings(Connection())
    return EcsSettings(
        connection=parse_connection(settings),
        environments=dict(settings.get("environments") or {}),
        services={str(k): str(v) for k, v in (settings.get("services") or {}).items()},
        poll_interval=float(settings.get("poll_interval", defaults.poll_interval)),
        metrics_interval=float(settings.get("metrics_interval", defaults.metrics_interval)),
        stuck_after=float(settings.get("stuck_after", defaults.stuck_after)),
        log_poll_interval=float(settings.get("log_poll_interval", defaults.log_poll_interval)),
        rollout_timeout=float(settings.get("rollout_timeout", defaults.rollout_timeout)),
        rollout_interval=float(settings.get("rollout_interval", defaults.rollout_interval)),
    )


def parse_sites(settings: Mapping[str, Any]) -> SiteSettings:
    """Settings from a checked mapping (see `check_sites`)."""
    sites = tuple(
        Site(
            name=str(name),
            bucket=site["bucket"],
            distribution=site["distribution"],
            environment=site.get("environment", "production"),
            prefix=site.get("prefix", "").strip("/"),
        )
        for name, site in (settings.get("sites") or {}).items()
    )
    return SiteSettings(
        connection=parse_connection(settings),
        sites=sites,
        poll_interval=float(settings.get("poll_interval", 30.0)),
    )
