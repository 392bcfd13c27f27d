"""Reads a TOML config into `console.config.Config`, collecting every problem.

Each problem names the file, the line and the key, so `quorum config check` and
the TUI can say exactly what to fix; nothing here raises a traceback at a user.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from console.config import Config, ProviderConfig
from console.errors import UsageError


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


class ConfigError(UsageError):
    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def single(cls, file: Path, line: int | None, key: str, message: str) -> ConfigError:
        return cls([ConfigProblem(file, line, key, message)])


def load_config(path: Path) -> Config:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError.single(path, None, "", f"cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError.single(path, getattr(exc, "lineno", None), "", str(exc)) from None
    team = raw.get("team", {})
    providers = tuple(
        ProviderConfig(
            name=p["name"],
            kind=p["kind"],
            readonly=bool(p.get("readonly", False)),
            settings={k: v for k, v in p.items() if k not in ("name", "kind", "readonly")},
        )
        for p in raw.get("providers", [])
    )
    return Config(
        team_name=team.get("name", "team"),
        members=tuple(team.get("members", ())),
        providers=providers,
        source=path,
    )
