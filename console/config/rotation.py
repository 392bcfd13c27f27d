"""The `[[rotation]]` tables of a config: turns, members, handoffs, layers, restrictions.

```toml
[[rotation]]
name = "on-call"
every = "week"                      # month | week | day | "<N>h"
members = ["alice", "bob"]
start = 2026-01-05
handoff = "09:00"                   # local wall-clock time in `timezone`
timezone = "Europe/Berlin"

[[rotation.restrictions]]           # on duty only inside these windows
days = ["mon", "tue", "wed", "thu", "fri"]
start = "09:00"
end = "17:00"

[[rotation.layers]]                 # a later layer wins where it has a holder
name = "weekend cover"
every = "week"
members = ["carol"]
start = 2026-01-10
end = 2026-06-30                    # optional
```
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from console.config.checks import STRING, Checker, quoted, type_name
from console.config.lines import KeyPath
from console.domain.settings import Restriction, RotationConfig, RotationLayer

SHIFT_KEYS = ("name", "every", "members", "start", "handoff", "timezone", "restrictions")
ROTATION_KEYS = (*SHIFT_KEYS, "layers")
LAYER_KEYS = (*SHIFT_KEYS, "end")
RESTRICTION_KEYS = ("days", "start", "end")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_EVERY = re.compile(r"month|week|day|[1-9]\d*h")
_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def rotations(check: Checker, raw: dict[str, Any]) -> tuple[list[RotationConfig], set[str]]:
    """The valid rotations, and the name of every rotation written (valid or not).

    The names let a policy's `require_rotation_approval` point at a rotation that has
    a problem of its own without getting a second, misleading "no such rotation".
    """
    seen: dict[str, KeyPath] = {}
    out: list[RotationConfig] = []
    for path, block in check.blocks(raw, "rotation"):
        before = len(check.problems)
        check.unknown_keys(block, path, ROTATION_KEYS)
        fields = _shift(check, block, path, layer=False)
        layers = tuple(_layers(check, block, path))
        name = fields.get("name")
        if name is None or not check.unique(name, path, seen, "rotation"):
            continue
        if len(check.problems) == before:
            out.append(RotationConfig(**fields, layers=layers))
    return out, set(seen)


def _layers(check: Checker, block: dict[str, Any], path: KeyPath) -> list[RotationLayer]:
    layers: list[RotationLayer] = []
    for where, table in _tables(check, block, path, "layers"):
        check.unknown_keys(table, where, LAYER_KEYS)
        fields = _shift(check, table, where, layer=True)
        fields.setdefault("name", f"layer {where[-1] + 1}")
        end = _date(check, table, where, "end", required=False)
        if end is not None and "start" in fields and end <= fields["start"]:
            check.add((*where, "end"), "must be after start")
        elif end is not None:
            fields["end"] = end
        if {"every", "members", "start"} <= fields.keys():
            layers.append(RotationLayer(**fields))
    return layers


def _shift(check: Checker, table: dict[str, Any], path: KeyPath, *, layer: bool) -> dict[str, Any]:
    """The keys a rotation and a layer share, as RotationConfig/RotationLayer arguments."""
    fields: dict[str, Any] = {"name": check.name(table, path, required=not layer)}
    every = check.get(table, path, "every", STRING, required=True)
    if every is not None and not _EVERY.fullmatch(every):
        check.add(
            (*path, "every"),
            'expected month, week, day or a number of hours like "12h", got'
            + (quoted(every) or " another value"),
        )
    elif every is not None:
        fields["every"] = every
    members = check.strings(table, path, "members", required=True)
    if isinstance(table.get("members"), list) and not table["members"]:
        check.add((*path, "members"), "must name at least one member")
    elif members:
        fields["members"] = members
    fields["start"] = _date(check, table, path, "start", required=True)
    fields["handoff"] = _clock(check, table, path, "handoff")
    fields["timezone"] = _timezone(check, table, path)
    fields["restrictions"] = tuple(_restrictions(check, table, path))
    return {key: value for key, value in fields.items() if value is not None}


def _restrictions(check: Checker, table: dict[str, Any], path: KeyPath) -> list[Restriction]:
    out: list[Restriction] = []
    for where, window in _tables(check, table, path, "restrictions"):
        check.unknown_keys(window, where, RESTRICTION_KEYS)
        days = _days(check, window, where)
        start = _clock(check, window, where, "start", required=True)
        end = _clock(check, window, where, "end", required=True)
        if start is not None and end is not None and days is not None:
            out.append(Restriction(days=days, start=start, end=end))
    return out


def _days(check: Checker, table: dict[str, Any], path: KeyPath) -> tuple[int, ...] | None:
    """Weekdays as names ("mon", "monday") or numbers 0 (Monday) to 6; all days if absent."""
    if "days" not in table:
        return tuple(range(7))
    value = table["days"]
    if not isinstance(value, list) or not value:
        check.add((*path, "days"), 'expected an array of weekdays like ["mon", "fri"]')
        return None
    days: list[int] = []
    for i, item in enumerate(value):
        if isinstance(item, str) and item[:3].lower() in WEEKDAYS:
            days.append(WEEKDAYS.index(item[:3].lower()))
        elif isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 6:
            days.append(item)
        else:
            check.add((*path, "days", i), "expected a weekday: mon..sun or 0 (Monday) to 6")
            return None
    return tuple(sorted(set(days)))


def _tables(
    check: Checker, table: dict[str, Any], path: KeyPath, key: str
) -> list[tuple[KeyPath, dict[str, Any]]]:
    """A nested array of tables (`[[rotation.layers]]` or an inline array)."""
    value = table.get(key, [])
    if not isinstance(value, list):
        check.add((*path, key), f"expected an array of tables, got {type_name(value)}")
        return []
    out: list[tuple[KeyPath, dict[str, Any]]] = []
    for i, item in enumerate(value):
        if isinstance(item, dict):
            out.append(((*path, key, i), item))
        else:
            check.add((*path, key, i), f"expected a table, got {type_name(item)}")
    return out


def _date(
    check: Checker, table: dict[str, Any], path: KeyPath, key: str, *, required: bool
) -> date | None:
    """A TOML date (`start = 2026-01-01`); a quoted ISO date is taken as meant."""
    if key not in table:
        if required:
            check.add((*path, key), "required key is missing")
        return None
    value = table[key]
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    check.add((*path, key), "expected a date like 2026-01-01")
    return None


def _clock(
    check: Checker, table: dict[str, Any], path: KeyPath, key: str, *, required: bool = False
) -> str | None:
    value = check.get(table, path, key, STRING, required=required)
    if value is not None and not _CLOCK.fullmatch(value):
        check.add((*path, key), f'expected a time "HH:MM", got{quoted(value) or " another value"}')
        return None
    return value


def _timezone(check: Checker, table: dict[str, Any], path: KeyPath) -> str | None:
    name = check.get(table, path, "timezone", STRING)
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        check.add(
            (*path, "timezone"),
            f"unknown time zone{quoted(name)} (expected an IANA name such as 'Europe/Berlin')",
        )
        return None
    return name
