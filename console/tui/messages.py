"""The messages the console's controllers post to the app (toolong's pattern).

The hub calls back from its provider loops; the app turns each callback into one
`HubChanged` carrying every provider's state at that moment. A burst of polls
(start-up, ctrl+r, a watch event on each provider) merges into the newest message,
so the Services table is repainted once for the burst, not once per provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textual.message import Message

from console.engine.hub import ProviderState


@dataclass
class HubChanged(Message):
    """Every provider's state after a poll; a newer one replaces a pending one."""

    states: Mapping[str, ProviderState]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, HubChanged)
