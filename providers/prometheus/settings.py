"""The settings of one `kind = "prometheus"` block: where Prometheus answers, which
services and environments it has figures for, and the PromQL of each metric.

A query is a template: `{service}` and `{environment}` are replaced by a service's
and an environment's label values. For the services' rows one query per metric asks
for every service at once, `{service}` then standing for a regex alternation of them
all; so a template matches the service with `=~"{service}"` and aggregates `by` the
`service_label`, which tells the answers apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from console.domain.model import CPU, DISK, ERROR_RATE, MEMORY, P99
from providers.base import Setting
from providers.http import settings as http

METRICS = (CPU, MEMORY, DISK, ERROR_RATE, P99)
DEFAULT_URL = "http://127.0.0.1:9090"
DECLARED = (
    Setting("services", "array", None, "the services Prometheus has figures for", required=True),
    Setting("service_label", "string", "job", "the label whose value is the service"),
    Setting(
        "queries", "table", None, "metric = PromQL with {service} and {environment}", required=True
    ),  # fmt: skip
    Setting("interval", "number", 15.0, "seconds between instant queries for the rows"),
    *http.DECLARED,
)
_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Settings:
    http: http.HttpSettings
    services: tuple[str, ...]
    queries: dict[str, str]  # metric name -> PromQL template
    # Quorum environment -> the value `{environment}` becomes in the queries
    environments: dict[str, str]
    service_label: str = "job"
    interval: float = 15.0


def check(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems = http.check(settings, token_required=False)
    services = settings.get("services")
    if isinstance(services, list) and (
        not services or not all(isinstance(s, str) and s.strip() for s in services)
    ):
        problems.append(("services", "expected a list of service names, none empty"))
    label = settings.get("service_label")
    if isinstance(label, str) and not _LABEL.fullmatch(label):
        problems.append(("service_label", "expected a Prometheus label name"))
    queries = settings.get("queries")
    if isinstance(queries, Mapping):
        if not queries:
            problems.append(("queries", f"name at least one of {', '.join(METRICS)}"))
        for metric, query in queries.items():
            if metric not in METRICS:
                problems.append(("queries", f"unknown metric {metric!r} (known: "
                                 f"{', '.join(METRICS)})"))  # fmt: skip
            elif not isinstance(query, str) or "{service}" not in query:
                problems.append(("queries", f"{metric}: expected PromQL naming {{service}}"))
    environments = settings.get("environments")
    if isinstance(environments, Mapping) and not all(
        isinstance(v, str) and v for v in environments.values()
    ):
        problems.append(("environments", "expected environment = the value {environment} "
                         "becomes, a string"))  # fmt: skip
    interval = settings.get("interval")
    if isinstance(interval, int | float) and not isinstance(interval, bool) and interval < 1:
        problems.append(("interval", "must be 1 second or more"))
    return problems


def parse(settings: Mapping[str, Any]) -> Settings:
    environments = dict(settings.get("environments") or {}) or {"production": "production"}
    return Settings(
        http=http.parse(settings, DEFAULT_URL),
        services=tuple(settings["services"]),
        queries=dict(settings["queries"]),
        environments=environments,
        service_label=settings.get("service_label") or "job",
        interval=float(settings.get("interval", 15.0)),
    )


def render(template: str, services: tuple[str, ...], environment: str) -> str:
    """A template with `{service}` as the services' alternation (each escaped for a
    PromQL regex inside a double-quoted string) and `{environment}` filled in."""
    alternation = "|".join(_regex_literal(s) for s in services)
    return template.replace("{service}", alternation).replace(
        "{environment}", _string_literal(environment)
    )


def _regex_literal(text: str) -> str:
    """`text` matched literally by an RE2 regex written in a PromQL string."""
    return _string_literal(re.sub(r"([\\.^$|?*+()\[\]{}])", r"\\\1", text))


def _string_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
