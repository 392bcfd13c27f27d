"""A third-party provider kind with its own settings rules, as a plugin would ship one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.domain.model import Snapshot, utcnow
from providers.base import Provider, Setting


class PickyProvider(Provider):
    kind = "picky"
    declared_settings = (
        Setting("api_url", "string", None, "the API's base URL"),
        Setting("token_env", "string", None, "the variable holding the token"),
        Setting("retries", "integer", 0, "retries of a failed call"),
    )

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if "api_url" not in settings:
            problems.append(("api_url", "required: the API's base URL"))
        if not 0 <= settings.get("retries", 0) <= 5:
            problems.append(("retries", "must be a whole number from 0 to 5"))
        return problems

    async def snapshot(self) -> Snapshot:
        return Snapshot(provider=self.name, targets=(), taken_at=utcnow())
