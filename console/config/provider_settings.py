"""Checks a `[[providers]]` block against what its kind declares (`Provider.declared_settings`).

The one place a provider's keys and types are checked: `load_config` (and so
`quorum config check` and the console's start) puts each problem on its file, line
and key; the kind's own `check_settings` adds only what types cannot say.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.config.checks import (
    ARRAY,
    BOOLEAN,
    INTEGER,
    NUMBER,
    STRING,
    TABLE,
    ValueType,
    closest,
)
from console.config.checks import type_name as toml_type
from console.domain.inert import echo
from providers.base import Provider, Setting

# Keys every provider block may carry, checked by the loader itself.
COMMON_KEYS = ("name", "kind", "readonly", "environments")

TYPES: dict[str, ValueType] = {
    "string": STRING,
    "integer": INTEGER,
    "number": NUMBER,
    "boolean": BOOLEAN,
    "table": TABLE,
    "array": ARRAY,
}


def declared_problems(
    declared: tuple[Setting, ...], settings: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """(key, message) for each undeclared key, missing required key, value of the wrong
    type, empty string or value outside the choices; empty when the block fits."""
    if not declared:
        return []
    names = [s.name for s in declared]
    allowed = (*COMMON_KEYS, *names)
    problems: list[tuple[str, str]] = []
    for key in settings:
        if key not in allowed:
            near = closest(key, allowed)
            hint = f"; did you mean {near}?" if near else f" (known: {', '.join(allowed)})"
            problems.append((key, f"unknown key {key!r}{hint}"))
    for setting in declared:
        if setting.name not in settings:
            if setting.required:
                problems.append((setting.name, _missing(setting)))
            continue
        value = settings[setting.name]
        expect = TYPES[setting.type]
        if not expect.accepts(value):
            problems.append((setting.name, f"expected {expect.name}, got {toml_type(value)}"))
        elif setting.choices and value not in setting.choices:
            choices = ", ".join(setting.choices)
            problems.append((setting.name, f"must be one of {choices}" + _not(value)))
        elif setting.type == "string" and not value.strip():
            problems.append((setting.name, "must not be empty"))
    return problems


def _not(value: Any) -> str:
    """`, not 'value'` when the value may be echoed (it may be a pasted secret)."""
    shown = echo(value)
    return f", not {shown}" if shown else ""


def _missing(setting: Setting) -> str:
    if setting.choices:
        return f"required: one of {', '.join(setting.choices)}"
    return "required key is missing"


def setting_problems(cls: type[Provider], settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every problem of a kind's settings: the declared checks, then the kind's own rules
    over the keys those left standing."""
    problems = declared_problems(cls.declared_settings, settings)
    reported = {key for key, _ in problems}
    sound = {k: v for k, v in settings.items() if k not in reported}
    problems += [(k, m) for k, m in cls.check_settings(sound) if k not in reported]
    return problems
