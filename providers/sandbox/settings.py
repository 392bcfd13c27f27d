"""The sandbox provider's settings: declared as data, with the ranges types cannot say."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from providers.base import Setting
from providers.sandbox.catalog import PLATFORMS

DEFAULT_LOG_RATE = 3.0
MAX_LOG_RATE = 100_000.0
DEFAULT_SEED = 1
MAX_ACTION_DELAY = 300.0

DECLARED = (
    Setting("platform", "string", None, "the world's platform", True, PLATFORMS),
    Setting("log_rate", "number", DEFAULT_LOG_RATE, "log lines a second per replica"),
    Setting("paused", "boolean", False, "freeze the world's clock (screenshots, tests)"),
    Setting("seed", "integer", DEFAULT_SEED, "the seed of the world's noise"),
    Setting("action_delay", "number", 0.0, "seconds a change takes to roll out"),
)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The ranges of the declared numbers as (key, message); empty when usable."""
    problems: list[tuple[str, str]] = []
    rate = settings.get("log_rate", DEFAULT_LOG_RATE)
    if _is_number(rate) and not 0 < rate <= MAX_LOG_RATE:
        problems.append(
            (
                "log_rate",
                f"must be a number of lines a second, above 0 and at most {MAX_LOG_RATE:,.0f}",
            )
        )
    delay = settings.get("action_delay", 0)
    if _is_number(delay) and not 0 <= delay <= MAX_ACTION_DELAY:
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
        """Settings the config checker passed (or the built-in sandbox team's own)."""
        return cls(
            platform=settings["platform"],
            log_rate=float(settings.get("log_rate", DEFAULT_LOG_RATE)),
            paused=settings.get("paused", False),
            seed=settings.get("seed", DEFAULT_SEED),
            action_delay=float(settings.get("action_delay", 0.0)),
        )
