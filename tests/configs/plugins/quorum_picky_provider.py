"""A third-party provider kind with its own settings rules, as a plugin would ship one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.domain.model import Snapshot, utcnow
from providers.base import Provider


class PickyProvider(Provider):
    kind = "picky"
    settings_keys = frozenset({"api_url", "token_env", "retries"})

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if "api_url" not in settings:
            problems.append(("api_url", "required: the API's base URL"))
        retries = settings.get("retries", 0)
        if not isinstance(retries, int) or not 0 <= retries <= 5:
            problems.append(("retries", "must be a whole number from 0 to 5"))
        return problems

    async def snapshot(self) -> Snapshot:
        return Snapshot(provider=self.name, targets=(), taken_at=utcnow())
