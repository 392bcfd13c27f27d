"""The settings of the AWS providers, validated before anything connects.

One block is one account and region (a profile, or the standard credential chain),
so several accounts and regions show side by side, each under its own name. Nothing
here imports boto3: a config is checked without loading the SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.base import Setting

DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 32

# What an AWS block may say besides name, kind, readonly and environments; Quorum's
# config checker checks these types, `check_ecs` and `check_sites` the rest.
CONNECTION = (
    Setting("profile", "string", None, "the AWS profile (default: the standard chain)"),
    Setting("region", "string", None, "the region (default: the profile's)"),
    Setting("endpoint_url", "string", None, "LocalStack, a VPC endpoint, an emulator"),
    Setting("max_concurrency", "integer", DEFAULT_CONCURRENCY, "AWS calls in flight at once"),
    Setting("call_timeout", "number", 20.0, "seconds one call may take"),
)
ECS_DECLARED = (
    *CONNECTION,
    Setting("services", "table", None, "ECS service name = Quorum service"),
    Setting("poll_interval", "number", 15.0, "seconds between listings"),
    Setting("metrics_interval", "number", 60.0, "seconds between CloudWatch reads"),
    Setting("stuck_after", "number", 1800.0, "seconds before a rollout is called stuck"),
    Setting("log_poll_interval", "number", 2.0, "seconds between log polls"),
    Setting("rollout_timeout", "number", 900.0, "seconds an action follows its rollout"),
    Setting("rollout_interval", "number", 5.0, "seconds between reads of a rollout"),
    Setting("access_check", "boolean", True, "ask IAM's policy simulator before offering"),
)
SITE_DECLARED = (
    *CONNECTION,
    Setting(
        "sites",
        "table",
        None,
        "name = { bucket, distribution, environment, prefix }",
        required=True,
    ),  # fmt: skip
    Setting("poll_interval", "number", 30.0, "seconds between reads of the sites"),
    Setting("rollout_timeout", "number", 600.0, "seconds a change follows its invalidation"),
    Setting("rollout_interval", "number", 5.0, "seconds between reads of a rollout"),
)
SITE_FIELDS = frozenset({"bucket", "distribution", "environment", "prefix"})


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
    # Whether a change is offered only after IAM's policy simulator allows it.
    access_check: bool = True

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
    # How long a deploy or rollback follows its invalidation (0: not at all), and how
    # often a distribution or invalidation still InProgress is read again.
    rollout_timeout: float = 600.0
    rollout_interval: float = 5.0


def _number(settings: Mapping[str, Any], key: str, low: float, high: float) -> list:
    value = settings.get(key)
    if value is None or low <= value <= high:
        return []
    return [(key, f"must be from {low:g} to {high:g}")]


def _check_connection(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The connection's rules beyond the declared types."""
    problems = []
    url = settings.get("endpoint_url")
    if isinstance(url, str) and not url.startswith(("http://", "https://")):
        problems.append(("endpoint_url", "must start with http:// or https://"))
    value = settings.get("max_concurrency")
    if value is not None and not 1 <= value <= MAX_CONCURRENCY:
        problems.append(("max_concurrency", f"must be an integer from 1 to {MAX_CONCURRENCY}"))
    problems += _number(settings, "call_timeout", 1, 300)
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
    """The problems of an `ecs` block beyond its declared types, as (key, message)."""
    problems = _check_connection(settings)
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
    """The problems of a `static-site` block beyond its declared types, as (key, message)."""
    problems = _check_connection(settings)
    if "environments" in settings:
        problems.append(("environments", "a static site names its environment in `sites`"))
    problems += _number(settings, "poll_interval", 1, 3600)
    problems += _number(settings, "rollout_timeout", 0, 7200)
    problems += _number(settings, "rollout_interval", 0.1, 60)
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
        access_check=bool(settings.get("access_check", defaults.access_check)),
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
        rollout_timeout=float(settings.get("rollout_timeout", 600.0)),
        rollout_interval=float(settings.get("rollout_interval", 5.0)),
    )
