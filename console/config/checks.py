"""The checks every config section shares: types, unknown keys, names, secrets.

A `Checker` collects problems instead of raising, so one run reports them all,
and places each on its line through the `LineIndex` of the raw text. Messages
name the expected type, never the value found, so a token pasted under the wrong
key is not echoed back to a terminal or a CI log.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from console.config.lines import KeyPath, LineIndex
from console.domain.inert import echo

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
# Keys whose value would be a credential: `token`, `api_key`, `client_secret`, ...
_SECRET_KEY = re.compile(
    r"(?:^|_)(?:token|password|passwd|passphrase|secret|apikey|api_key|access_key|"
    r"secret_key|private_key|credentials?)$",
    re.IGNORECASE,
)
# Values that are credentials whatever their key: the vendors' documented token prefixes
# and webhook URLs that carry their own secret.
_SECRET_VALUE = re.compile(
    r"gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|hooks\.slack\.com/services/|[?&]access_token="
)


@dataclass(frozen=True)
class ConfigProblem:
    file: Path
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else f"{self.file}"
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"


@dataclass(frozen=True)
class ValueType:
    """An expected TOML type: the words a message uses for it and the test for it."""

    name: str
    accepts: Callable[[Any], bool]


STRING = ValueType("a string", lambda v: isinstance(v, str))
INTEGER = ValueType("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool))
NUMBER = ValueType("a number", lambda v: isinstance(v, int | float) and not isinstance(v, bool))
BOOLEAN = ValueType("true or false", lambda v: isinstance(v, bool))
TABLE = ValueType("a table", lambda v: isinstance(v, dict))
ARRAY = ValueType("an array", lambda v: isinstance(v, list))


def quoted(value: Any) -> str:
    """` 'value'` for a message when it may be echoed (short, and not shaped like a URL
    or a token: `console.domain.inert.echo`), else nothing."""
    text = echo(value)
    return f" {text}" if text else ""


def type_name(value: Any) -> str:
    """What TOML calls the type of `value`, for "expected X, got Y"."""
    for kind, name in (
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a float"),
        (str, "a string"),
        (list, "an array"),
        (dict, "a table"),
        (datetime, "a date-time"),
        (date, "a date"),
        (time, "a time"),
    ):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def render_key(path: KeyPath) -> str:
    """`("providers", 1, "kind")` as users read it: `providers[1].kind`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if _BARE_KEY.fullmatch(part) else f'"{part}"'
            out += f".{text}" if out else text
    return out


def closest(word: str, choices: Sequence[str]) -> str | None:
    """`did you mean` material: the nearest choice, if any is near."""
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return repr(found[0]) if found else None


def _secret_hint(path: KeyPath) -> str:
    """Where the secret should come from instead, in the words of the key it was under."""
    key = path[-1] if path and isinstance(path[-1], str) else ""
    if path and path[0] == "ledger":
        return "the ledger's password comes from libpq (~/.pgpass, PGPASSWORD, a service file)"
    if _SECRET_KEY.search(key):
        return f"name an environment variable with {key}_env"
    if key.endswith("_env"):
        return f"{key} takes the name of an environment variable, not its value"
    return "name an environment variable with token_env"


class Checker:
    """Collects the problems of one file, each on the line of the key it is about."""

    def __init__(self, file: Path, index: LineIndex):
        self.file = file
        self.index = index
        self.problems: list[ConfigProblem] = []
        self.secrets: set[KeyPath] = set()

    def add(self, path: KeyPath, message: str) -> None:
        self.problems.append(
            ConfigProblem(self.file, self.index.line(path), render_key(path), message)
        )

    def get(
        self,
        table: dict[str, Any],
        path: KeyPath,
        key: str,
        expect: ValueType,
        *,
        required: bool = False,
    ) -> Any:
        """`table[key]` when it has the expected type; None, with a problem, otherwise.

        A value already reported as a secret gets no second message.
        """
        if key not in table:
            if required:
                self.add((*path, key), "required key is missing")
            return None
        value = table[key]
        if (*path, key) in self.secrets:
            return None
        if not expect.accepts(value):
            self.add((*path, key), f"expected {expect.name}, got {type_name(value)}")
            return None
        return value

    def name(self, table: dict[str, Any], path: KeyPath, *, required: bool = True) -> str | None:
        value = self.get(table, path, "name", STRING, required=required)
        if value is not None and not value.strip():
            self.add((*path, "name"), "must not be empty")
            return None
        return value

    def strings(
        self,
        table: dict[str, Any],
        path: KeyPath,
        key: str,
        *,
        required: bool = False,
        unique: bool = False,
    ) -> tuple[str, ...]:
        """An array of non-empty strings; bad elements are reported and left out."""
        if key not in table:
            if required:
                self.add((*path, key), "required key is missing")
            return ()
        items = table[key]
        if not isinstance(items, list):
            self.add((*path, key), f"expected an array of strings, got {type_name(items)}")
            return ()
        out: list[str] = []
        for i, item in enumerate(items):
            if (*path, key, i) in self.secrets:
                continue
            if not isinstance(item, str):
                self.add((*path, key, i), f"expected a string, got {type_name(item)}")
            elif not item.strip():
                self.add((*path, key, i), "must not be empty")
            elif unique and item in out:
                self.add((*path, key, i), f"{echo(item) or 'this value'} is listed twice")
            else:
                out.append(item)
        return tuple(out)

    def unique(self, name: str, path: KeyPath, seen: dict[str, KeyPath], what: str) -> bool:
        """Records `name`; False, with a problem naming the first one, when it is taken."""
        if name in seen:
            first = self.index.line(seen[name])
            also = f" (first at line {first})" if first else ""
            self.add((*path, "name"), f"duplicate {what} name{quoted(name)}{also}")
            return False
        seen[name] = path
        return True

    def section(self, raw: dict[str, Any], key: str) -> dict[str, Any]:
        """A top-level table; empty, with a problem, when it is something else."""
        value = raw.get(key, {})
        if isinstance(value, dict):
            return value
        self.add((key,), f"expected a table ([{key}]), got {type_name(value)}")
        return {}

    def blocks(self, raw: dict[str, Any], key: str) -> Iterator[tuple[KeyPath, dict[str, Any]]]:
        """The tables of a `[[key]]` array, each with its path."""
        value = raw.get(key, [])
        if not isinstance(value, list):
            self.add((key,), f"expected an array of tables ([[{key}]]), got {type_name(value)}")
            return
        for i, block in enumerate(value):
            if isinstance(block, dict):
                yield (key, i), block
            else:
                self.add((key, i), f"expected a table, got {type_name(block)}")

    def unknown_keys(
        self, table: dict[str, Any], path: KeyPath, allowed: Sequence[str], what: str = "key"
    ) -> None:
        for key in table:
            if key in allowed or (*path, key) in self.secrets:
                continue
            near = closest(key, allowed)
            hint = f"; did you mean {near}?" if near else f" (known: {', '.join(allowed)})"
            self.add((*path, key), f"unknown {what} {key!r}{hint}")

    def scan_secrets(self, value: Any, path: KeyPath) -> None:
        """Reports every credential written in the file, by its key or its well-known shape."""
        if isinstance(value, dict):
            for key, item in value.items():
                self.scan_secrets(item, (*path, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.scan_secrets(item, (*path, i))
        elif isinstance(value, str):
            by_key = bool(path) and isinstance(path[-1], str) and _SECRET_KEY.search(path[-1])
            if by_key or _SECRET_VALUE.search(value):
                self.secrets.add(path)
                self.add(path, f"secrets are never written in the config; {_secret_hint(path)}")
