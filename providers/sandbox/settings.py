"""The sandbox provider's settings, checked one key at a time so every problem is named."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from console.domain.inert import echo
from providers.sandbox.catalog import PLATFORMS

DEFAULT_LOG_RATE = 3.0
MAX_LOG_RATE = 100_000.0
DEFAULT_SEED = 1
MAX_ACTION_DELAY = 300.0

KEYS = frozenset({"platform", "log_rate", "paused", "seed", "action_delay"})


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every problem with `settings` as (key, message); empty when they are usable."""
    problems: list[tuple[str, str]] = []
    choices = ", ".join(PLATFORMS)
    platform = settings.get("platform")
    if platform is None:
        problems.append(("platform", f"required: one of {choices}"))
    elif platform not in PLATFORMS:
        shown = echo(platform)
        problems.append(
            ("platform", f"must be one of {choices}" + (f", not {shown}" if shown else ""))
        )
    rate = settings.get("log_rate", DEFAULT_LOG_RATE)
    if not _is_number(rate) or not 0 < rate <= MAX_LOG_RATE:
        problems.append(
            (
                "log_rate",
                f"must be a number of lines a second, above 0 and at most {MAX_LOG_RATE:,.0f}",
            )
        )
    if not isinstance(settings.get("paused", False), bool):
        problems.append(("paused", "must be true or false"))
    seed = settings.get("seed", DEFAULT_SEED)
    if not isinstance(seed, int) or isinstance(seed, bool):
        problems.append(("seed", "must be a whole number"))
    delay = settings.get("action_delay", 0)
    if not _is_number(delay) or not 0 <= delay <= MAX_ACTION_DELAY:
        problems.append(("action_delay", f"must be seconds from 0 to {MAX_ACTION_DELAY:.0f}"))
    return problems


@dataclass(frozen=True)
class SandboxSettings:
    platform: str
    log_rate: float = DEFAULT_LOG_RATE
    paused: bool = False
    seed: int = DEFAULT_SEED
    action_delay: float = 0.0

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> SandboxSettings:
        """Settings that passed `check`; anything else is a ValueError naming the problems."""
        problems = check(settings)
        if problems:
            raise ValueError("; ".join(f"{key}: {message}" for key, message in problems))
        return cls(
            platform=settings["platform"],
            log_rate=float(settings.get("log_rate", DEFAULT_LOG_RATE)),
            paused=settings.get("paused", False),
            seed=settings.get("seed", DEFAULT_SEED),
            action_delay=float(settings.get("action_delay", 0.0)),
        )
