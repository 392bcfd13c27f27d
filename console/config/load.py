"""Reads a TOML config into `console.domain.settings.Config`, collecting every problem.

A user fixing a config wants the whole list at once, not one error per run, so
each section is checked to the end and every problem names the file, the line and
the key (`config.toml:14: providers[1].kind: unknown provider kind ...`). Nothing
here raises a traceback at a user, and no problem message repeats a value that
might be a secret.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

from console.config import rotation as config_rotation
from console.config.checks import (
    BOOLEAN,
    INTEGER,
    NUMBER,
    STRING,
    TABLE,
    Checker,
    ConfigProblem,
    quoted,
    render_key,
)
from console.config.ledger import ledger
from console.config.lines import KeyPath, LineIndex
from console.config.notify_sinks import notify_sinks
from console.config.provider_settings import setting_problems
from console.config.small_files import Unreadable, read_small_text
from console.domain.durations import DurationError, parse_duration
from console.domain.errors import UsageError
from console.domain.model import METRIC_LABELS
from console.domain.settings import (
    Config,
    NotifyConfig,
    Policy,
    ProviderConfig,
    ServiceConfig,
)
from console.domain.signers import AllowedSigners, parse_allowed_signers
from console.domain.thresholds import Thresholds
from providers.registry import ProviderLoadError, available_kinds, is_known, load_provider_class

__all__ = ["ConfigError", "ConfigProblem", "load_config", "problem_at"]

DEEP = "nested too deeply to be a Quorum config"
MAX_COUNT = 1000  # approvals or rejections: far beyond any team
SECTIONS = (
    "team",
    "audit",
    "ledger",
    "policy",
    "providers",
    "services",
    "thresholds",
    "notify",
    "rotation",
)
TEAM_KEYS = ("name", "members", "allowed_signers")
AUDIT_KEYS = ("path",)
POLICY_KEYS = tuple(f.name for f in dataclasses.fields(Policy) if f.name != "environment")
SERVICE_KEYS = ("name", "thresholds")

_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END = " (at end of document)"


class ConfigError(UsageError):
    """Every problem of one config file; `str()` is one line per problem."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def single(cls, file: Path, line: int | None, key: str, message: str) -> ConfigError:
        return cls([ConfigProblem(file, line, key, message)])


def load_config(path: Path) -> Config:
    """The config in `path`; raises ConfigError listing every problem of the file.

    Problems confined to one provider block (an unknown kind, settings the kind
    refuses) do not stop the console: they travel in `ProviderConfig.problems`, and
    that provider is shown broken while every other one works.
    """
    config, problems = _load(path)
    if problems:
        raise ConfigError(problems)
    return config


def config_problems(path: Path) -> list[ConfigProblem]:
    """Everything `quorum config check` reports from the file, provider blocks included."""
    try:
        _, problems = _load(path, strict=True)
    except ConfigError as exc:
        return exc.problems
    return problems


def _load(path: Path, *, strict: bool = False) -> tuple[Config, list[ConfigProblem]]:
    text = _read(path)
    try:
        raw = tomllib.loads(text)
        loader = _Loader(Checker(path, LineIndex(text)))
        config = loader.config(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([_syntax_problem(path, text, exc)]) from None
    except RecursionError:  # arrays or tables thousands deep: no config is like that
        raise ConfigError.single(path, None, "", DEEP) from None
    problems = list(loader.check.problems)
    if strict:
        problems += loader.provider_problems
    return config, sorted(problems, key=lambda p: p.line or 0)


def problem_at(file: Path, key: KeyPath, message: str) -> ConfigProblem:
    """A problem about `key` of a config that loaded, found after loading (a broken provider)."""
    try:
        line = LineIndex(file.read_text(encoding="utf-8")).line(key)
    except (OSError, UnicodeDecodeError):
        line = None
    return ConfigProblem(file, line, render_key(key), message)


def _read(path: Path) -> str:
    """The file's text; a FIFO, a device (/dev/zero) or a huge file is refused, not read
    forever."""
    try:
        return read_small_text(path)
    except Unreadable as exc:
        raise ConfigError.single(path, None, "", str(exc)) from None


def _syntax_problem(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> ConfigProblem:
    """Python 3.11's TOMLDecodeError has no line attribute: read it from the message."""
    message = str(exc)
    line: int | None = None
    found = _AT_LINE.search(message)
    if found:
        line = int(found.group(1))
        message = f"{message[: found.start()]} (column {found.group(2)})"
    elif message.endswith(_AT_END):
        line = text.count("\n") + (0 if text.endswith("\n") else 1)
        message = f"{message[: -len(_AT_END)]} (at end of file)"
    return ConfigProblem(path, line, "", f"invalid TOML: {message}")


class _Loader:
    """Builds a Config section by section, reporting through one Checker."""

    def __init__(self, check: Checker):
        self.check = check
        # Problems of single provider blocks: each breaks that provider only.
        self.provider_problems: list[ConfigProblem] = []

    def config(self, raw: dict[str, Any]) -> Config:
        check = self.check
        check.scan_secrets(raw, ())
        check.unknown_keys(raw, (), SECTIONS)
        team = check.section(raw, "team")
        check.unknown_keys(team, ("team",), TEAM_KEYS)
        members = check.strings(team, ("team",), "members", unique=True)
        rotations, rotation_names = config_rotation.rotations(check, raw)
        thresholds = Thresholds().merged(self.levels(raw, (), "thresholds"))
        return Config(
            team_name=check.name(team, ("team",), required=False) or "team",
            members=members,
            signers=self.signers(team),
            audit_path=self.audit_path(raw),
            ledger=ledger(check, raw),
            policies=self.policies(raw, members, rotation_names),
            providers=self.providers(raw),
            services=self.services(raw, thresholds),
            notify=self.notify(raw),
            rotations=tuple(rotations),
            thresholds=thresholds,
            source=self.check.file,
        )

    def audit_path(self, raw: dict[str, Any]) -> Path | None:
        """A relative path is taken from the config's directory, whatever the cwd of cron."""
        audit = self.check.section(raw, "audit")
        self.check.unknown_keys(audit, ("audit",), AUDIT_KEYS)
        value = self.check.get(audit, ("audit",), "path", STRING)
        if value is None:
            return None
        if not value.strip():
            self.check.add(("audit", "path"), "must not be empty")
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.check.file.parent / path

    def signers(self, team: dict[str, Any]) -> AllowedSigners | None:
        """The members' keys, from an OpenSSH allowed-signers file (relative to the config).

        A line that cannot grant anything is a problem of the config: a team that
        signs its votes wants to know that a key it listed will not count.
        """
        value = self.check.get(team, ("team",), "allowed_signers", STRING)
        if value is None:
            return None
        path = Path(value).expanduser()
        path = path if path.is_absolute() else self.check.file.parent / path
        try:
            text = read_small_text(path)
        except Unreadable as exc:
            self.check.add(("team", "allowed_signers"), f"{path}: {exc}")
            return None
        signers = parse_allowed_signers(text, str(path))
        for problem in signers.problems:
            self.check.add(("team", "allowed_signers"), problem)
        return signers

    def policies(
        self, raw: dict[str, Any], members: tuple[str, ...], rotations: set[str]
    ) -> dict[str, Policy]:
        check = self.check
        policies: dict[str, Policy] = {}
        for environment, table in check.section(raw, "policy").items():
            path: KeyPath = ("policy", environment)
            if not isinstance(table, dict):
                check.add(path, f"expected a table ([policy.{environment}])")
                continue
            check.unknown_keys(table, path, POLICY_KEYS)
            changes: dict[str, Any] = {}
            for key in ("allow_self_approval", "dismiss_stale_votes", "forward_after_quorum"):
                flag = check.get(table, path, key, BOOLEAN)
                if flag is not None:
                    changes[key] = flag
            refused: set[str] = set()
            for key, least in (("min_approvals", 0), ("block_on_rejections", 1)):
                count = check.get(table, path, key, INTEGER)
                if count is not None and not least <= count <= MAX_COUNT:
                    bound = f"{least} or more" if count < least else f"at most {MAX_COUNT}"
                    check.add((*path, key), f"must be {bound}")
                    refused.add(key)
                elif count is not None:
                    changes[key] = count
                elif key in table:
                    refused.add(key)
            ttl = self.duration(table, path, "vote_ttl")
            if ttl is not None:
                changes["vote_ttl"] = ttl
            command = check.get(table, path, "deploy_command", STRING)
            if command is not None and not command.strip():
                check.add((*path, "deploy_command"), "must not be empty")
            elif command is not None:
                changes["deploy_command"] = command
            rotation = check.get(table, path, "require_rotation_approval", STRING)
            if rotation is not None and rotation not in rotations:
                known = ", ".join(sorted(rotations)) or "none is configured"
                check.add(
                    (*path, "require_rotation_approval"),
                    f"no rotation named{quoted(rotation)} (rotations: {known})",
                )
            elif rotation is not None:
                changes["require_rotation_approval"] = rotation
            policy = dataclasses.replace(Policy.default_for(environment), **changes)
            if members and "min_approvals" not in refused and policy.min_approvals > len(members):
                check.add(
                    (*path, "min_approvals"),
                    f"{policy.min_approvals} approvals can never be reached by a team of "
                    f"{len(members)} member{'s' if len(members) > 1 else ''}",
                )
            policies[environment] = policy
        return policies

    def duration(self, table: dict[str, Any], path: KeyPath, key: str) -> timedelta | None:
        text = self.check.get(table, path, key, STRING)
        if text is None:
            return None
        try:
            value = parse_duration(text)
        except DurationError as exc:
            self.check.add((*path, key), str(exc))
            return None
        if not value:
            self.check.add((*path, key), "must be longer than zero")
            return None
        return value

    def providers(self, raw: dict[str, Any]) -> tuple[ProviderConfig, ...]:
        check = self.check
        seen: dict[str, KeyPath] = {}
        providers: list[ProviderConfig] = []
        for path, block in check.blocks(raw, "providers"):
            name = check.name(block, path)
            kind = check.get(block, path, "kind", STRING, required=True)
            readonly = check.get(block, path, "readonly", BOOLEAN)
            check.get(block, path, "environments", TABLE)
            settings = {
                key: value
                for key, value in block.items()
                if key not in ("name", "kind", "readonly") and (*path, key) not in check.secrets
            }
            if name is not None:
                check.unique(name, path, seen, "provider")
            before = len(check.problems)
            if kind is not None and not is_known(kind):
                known = ", ".join(available_kinds()) or "none installed"
                check.add((*path, "kind"), f"unknown provider kind{quoted(kind)} (known: {known})")
            elif kind is not None:
                self.provider_settings(path, kind, settings)
            own = check.problems[before:]
            del check.problems[before:]
            self.provider_problems += own
            if name is not None and kind is not None:
                problems = tuple(str(p) for p in own)
                providers.append(ProviderConfig(name, kind, bool(readonly), settings, problems))
        return tuple(providers)

    def provider_settings(self, path: KeyPath, kind: str, settings: dict[str, Any]) -> None:
        """The kind's declared settings and its own rules (`console.config.provider_settings`);
        a kind that fails to import is the session's to report."""
        try:
            cls = load_provider_class(kind)
        except ProviderLoadError:
            return
        try:
            problems = setting_problems(cls, settings)
        except Exception as exc:  # a third-party provider may fail in any way
            self.check.add(path, f"provider kind{quoted(kind)} failed to check its settings: {exc}")
            return
        already = {p.key for p in self.check.problems}
        for key, message in problems:
            where = (*path, *key.split(".")) if key else path
            if render_key(where) not in already:
                self.check.add(where, message)

    def services(self, raw: dict[str, Any], team: Thresholds) -> tuple[ServiceConfig, ...]:
        check = self.check
        seen: dict[str, KeyPath] = {}
        services: list[ServiceConfig] = []
        for path, block in check.blocks(raw, "services"):
            check.unknown_keys(block, path, SERVICE_KEYS)
            name = check.name(block, path)
            thresholds = None
            if "thresholds" in block:
                thresholds = team.merged(self.levels(block, path, "thresholds"))
            if name is not None and check.unique(name, path, seen, "service"):
                services.append(ServiceConfig(name, thresholds))
        return tuple(services)

    def levels(
        self, table: dict[str, Any], path: KeyPath, key: str
    ) -> dict[str, tuple[float, float]]:
        """`{metric = [warning, critical]}`: known metrics, two numbers, warning below critical."""
        check = self.check
        section = check.get(table, path, key, TABLE) or {}
        where = (*path, key)
        check.unknown_keys(section, where, tuple(METRIC_LABELS), what="metric")
        levels: dict[str, tuple[float, float]] = {}
        for metric, pair in section.items():
            if metric not in METRIC_LABELS:
                continue
            if not (isinstance(pair, list) and len(pair) == 2 and all(map(NUMBER.accepts, pair))):
                check.add((*where, metric), "expected [warning, critical], two numbers")
            elif not all(math.isfinite(level) for level in pair):
                check.add((*where, metric), "thresholds must be finite numbers (not nan or inf)")
            elif min(pair) < 0:
                check.add((*where, metric), "thresholds cannot be negative")
            elif pair[0] >= pair[1]:
                check.add(
                    (*where, metric), f"warning {pair[0]:g} must be below critical {pair[1]:g}"
                )
            else:
                levels[metric] = (float(pair[0]), float(pair[1]))
        return levels

    def notify(self, raw: dict[str, Any]) -> tuple[NotifyConfig, ...]:
        return notify_sinks(self.check, raw)
