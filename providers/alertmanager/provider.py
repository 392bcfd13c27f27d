"""The Alertmanager provider: active alerts from API v2, each matched to the service
and environment its labels name, and silences made and expired through the same API.

It serves no targets: its snapshot carries alerts only, which land on the rows the
other providers serve (and on the alerts strip). Every label and annotation is kept
as the server wrote it; the screen and the command line make it inert.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

from console.domain.alerts import Alert
from console.domain.model import Snapshot, utcnow
from providers.alertmanager.settings import DECLARED, check, parse
from providers.base import BadResponse, Capability, Provider, ProviderContext, Setting
from providers.ci.times import parse_time
from providers.http import HttpClient

_TEXT_LIMIT = 300  # a summary longer than a screen line is cut here, not at the terminal


class AlertmanagerProvider(Provider):
    kind = "alertmanager"
    capabilities = Capability.SNAPSHOT | Capability.ALERTS | Capability.SILENCE
    declared_settings: ClassVar[tuple[Setting, ...]] = DECLARED

    def __init__(self, name: str, settings: Mapping[str, Any], context: ProviderContext):
        super().__init__(name, settings, context)
        self.config = parse(self.settings)
        self.client = HttpClient(self.config.http)

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        return check(settings)

    async def close(self) -> None:
        await self.client.close()

    async def snapshot(self) -> Snapshot:
        data = await self.client.get("api/v2/alerts")
        if not isinstance(data, list):
            raise BadResponse("api/v2/alerts: expected a list of alerts")
        alerts = tuple(a for a in (self._alert(item) for item in data) if a is not None)
        return Snapshot(self.name, (), utcnow(), alerts=alerts)

    def _alert(self, item: Any) -> Alert | None:
        """One alert from the API's shape; None for an entry without a fingerprint."""
        if not isinstance(item, dict) or not isinstance(item.get("fingerprint"), str):
            return None
        labels = _strings(item.get("labels"))
        notes = _strings(item.get("annotations"))
        status = item.get("status") if isinstance(item.get("status"), dict) else {}
        silenced = status.get("silencedBy")
        return Alert(
            provider=self.name,
            fingerprint=item["fingerprint"],
            name=labels.get("alertname", "(unnamed)"),
            severity=labels.get("severity", ""),
            summary=(notes.get("summary") or notes.get("description") or "")[:_TEXT_LIMIT],
            service=self.config.first(labels, self.config.service_labels),
            environment=self.config.first(labels, self.config.environment_labels),
            state=str(status.get("state") or "active"),
            silenced_by=tuple(s for s in silenced if isinstance(s, str))
            if isinstance(silenced, list)
            else (),
            starts_at=parse_time(item.get("startsAt")),
            labels=labels,
        )

    async def silence(self, alert: Alert, until: datetime, comment: str, author: str) -> str:
        body = {
            "matchers": [
                {"name": k, "value": v, "isRegex": False, "isEqual": True}
                for k, v in sorted(alert.labels.items())
            ],
            "startsAt": _iso(utcnow()),
            "endsAt": _iso(until),
            "createdBy": author,
            "comment": comment,
        }
        answer = await self.client.post("api/v2/silences", body)
        found = answer.data.get("silenceID") if isinstance(answer.data, dict) else None
        if not isinstance(found, str) or not found:
            raise BadResponse("api/v2/silences: the answer names no silenceID")
        return found

    async def expire(self, silence: str) -> str:
        await self.client.request("DELETE", f"api/v2/silence/{quote(silence, safe='')}")
        return f"silence {silence} expired"


def _strings(value: Any) -> dict[str, str]:
    """A label or annotation map with only its string entries."""
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")
