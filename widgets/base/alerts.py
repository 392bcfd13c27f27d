"""The alerts strip: one line over the status line while any alert fires.

Hidden when nothing fires, so a quiet team sees no chrome for it. When something
does, the count comes first and then the most severe alerts with the service they
name, as many as the width allows (the line ends in an ellipsis); `:silence` is
where one is silenced. Everything in it came from a monitoring server: inert.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from console.domain.alerts import Alert, is_critical
from console.domain.inert import neutralise
from console.domain.wording import count

SHOWN = 5  # alerts named on the line at most; the count says how many there are


def where(alert: Alert) -> str:
    """`api@production`, `api` (every environment), or `-` (no service label)."""
    if alert.service is None:
        return "-"
    return alert.service + (f"@{alert.environment}" if alert.environment else "")


class AlertsStrip(Static):
    """Count and most severe alerts; `show` takes them most severe first (`firing`)."""

    _shown = Text()

    def show(self, alerts: Sequence[Alert]) -> None:
        if not alerts:
            if self.display:
                self.display = False
                self._shown = Text()
            return
        worst = "bold white on red" if is_critical(alerts[0]) else "bold black on yellow"
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(f" 🔔 {count(len(alerts), 'alert')} firing ", style=worst)
        for alert in alerts[:SHOWN]:
            style = "red" if is_critical(alert) else "yellow"
            text.append("  ")
            text.append(neutralise(alert.severity or "alert"), style=f"bold {style}")
            text.append(f" {neutralise(alert.name)} ", style=style)
            text.append(neutralise(where(alert)), style="dim")
        text.append("  · :silence", style="dim")
        self.display = True
        if text != self._shown:
            self._shown = text
            self.update(text)
