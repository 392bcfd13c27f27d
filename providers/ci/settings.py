"""Settings checks both CI kinds share: names, tables of names, input templates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TEMPLATE_FIELDS = ("revision", "environment", "service", "ref")


def names(settings: Mapping[str, Any], key: str, what: str) -> list[tuple[str, str]]:
    """A non-empty array of distinct non-empty strings (repositories, projects)."""
    value = settings.get(key)
    if value is None:
        return []
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        return [(key, f"must be a non-empty array of {what}")]
    if len(set(value)) != len(value):
        return [(key, f"lists a {what[:-1]} twice")]
    return []


def table(settings: Mapping[str, Any], key: str, what: str) -> list[tuple[str, str]]:
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


def templates(settings: Mapping[str, Any], key: str) -> list[tuple[str, str]]:
    """A table of dispatch inputs whose values may name {revision}, {environment}..."""
    problems = table(settings, key, "value")
    if problems:
        return problems
    for name, value in (settings.get(key) or {}).items():
        try:
            fill(value, revision="", environment="", service="", ref="")
        except (KeyError, IndexError, ValueError):
            known = ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
            problems.append((key, f"{name!r}: a template may name only {known}"))
    return problems


def fill(template: str, **fields: str) -> str:
    return template.format(**fields)
