"""The body of the `pagerduty` sink: a trigger event for PagerDuty's Events API v2.

The routing (integration) key is read from the environment by the caller and goes
only into this body, never into a URL or a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.domain.model import utcnow

SUMMARY_LIMIT = 1024  # PagerDuty cuts a longer summary


def event(routing_key: str, title: str, text: str, severity: str,
          fields: Mapping[str, str]) -> dict[str, Any]:  # fmt: skip
    """The documented trigger body; Quorum's info/warning/critical are PagerDuty's own."""
    payload: dict[str, Any] = {
        "summary": title[:SUMMARY_LIMIT],
        "source": fields.get("service") or "quorum",
        "severity": severity if severity in ("info", "warning", "critical") else "info",
        "timestamp": utcnow().isoformat(),
        "component": fields.get("service", ""),
        "group": fields.get("environment", ""),
        "class": "quorum",
        "custom_details": {"text": text, **fields},
    }
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "payload": {key: value for key, value in payload.items() if value != ""},
    }
