"""A third-party provider kind written before kinds declared their settings as data:
it lists its keys the old way (`settings_keys`, which Quorum no longer reads) and checks
them itself in `check_settings`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.domain.model import Snapshot, utcnow
from providers.base import Provider


class LegacyProvider(Provider):
    kind = "legacy"
    settings_keys = frozenset({"api_url"})

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        if not isinstance(settings.get("api_url"), str):
            return [("api_url", "required: the API's base URL, as a string")]
        return []

    async def snapshot(self) -> Snapshot:
        return Snapshot(provider=self.name, targets=(), taken_at=utcnow())
