"""The settings of one Alertmanager block: where it is, and which labels name a service
and an environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from providers.base import Setting
from providers.http import settings as http

SERVICE_LABELS = ("service",)
ENVIRONMENT_LABELS = ("environment", "env")
# What a [[providers]] block of kind "alertmanager" may say besides name, kind and
# readonly; Quorum checks the types.
DECLARED = (
    Setting(
        "service_labels", "array", list(SERVICE_LABELS), "labels naming the service, first found"
    ),
    Setting(
        "environment_labels",
        "array",
        list(ENVIRONMENT_LABELS),
        "labels naming the environment, first found (none: every environment)",
    ),
    *http.DECLARED,
)


@dataclass(frozen=True)
class Settings:
    http: http.HttpSettings
    service_labels: tuple[str, ...] = SERVICE_LABELS
    environment_labels: tuple[str, ...] = ENVIRONMENT_LABELS

    def first(self, labels: Mapping[str, str], names: tuple[str, ...]) -> str | None:
        """The value of the first of `names` that `labels` holds, if any."""
        for name in names:
            value = labels.get(name)
            if value:
                return value
        return None


def check(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The problems beyond the declared types as (key, message); empty when usable."""
    problems = http.check(settings, token_required=False)
    if "api_url" not in settings:
        problems.append(("api_url", 'Alertmanager\'s URL is needed: api_url = "http://host:9093"'))
    for key in ("service_labels", "environment_labels"):
        value = settings.get(key)
        if isinstance(value, list) and not all(isinstance(v, str) and v for v in value):
            problems.append((key, "expected label names, none of them empty"))
    if settings.get("service_labels") == []:
        problems.append(("service_labels", "at least one label must name the service"))
    return problems


def parse(settings: Mapping[str, Any]) -> Settings:
    """Settings from a checked mapping (see `check`)."""
    return Settings(
        http=http.parse(settings, ""),
        service_labels=tuple(settings.get("service_labels", SERVICE_LABELS)),
        environment_labels=tuple(settings.get("environment_labels", ENVIRONMENT_LABELS)),
    )
