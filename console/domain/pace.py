"""How often the console redraws what changes on its own, for a fast link or a slow one.

On a LAN or a good SSH link the console polls every 2 s, shows seconds on its clock and
scrolls a following log once a second or so. Over a slow or metered link (a phone's
tether, a bastion across an ocean) that costs more than it is worth; `--slow-link` (or
`QUORUM_SLOW_LINK=1`) keeps the same panes, rows and columns and redraws them less often.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Pace:
    """Seconds between redraws of each thing that changes without a key being pressed."""

    poll: float = 2.0  # providers polled, Services rows and status line redrawn
    side: float = 2.0  # approvals, rotation and audit read again
    metrics: float = 5.0  # the selected target's metrics fetched and plotted
    # New log lines that scroll a full view are drawn together, at most this often while
    # the log is a side pane, and as they come (15 times a second at most) while it holds
    # the focus: someone is reading it then.
    log_scroll: float = 2.0
    log_scroll_focused: float = 0.0
    clock_seconds: bool = True  # the clock shows seconds (else it changes once a minute)

    @property
    def clock_format(self) -> str:
        """strftime format of the clock on a wide screen."""
        return "%Y-%m-%d %H:%M:%S UTC" if self.clock_seconds else "%Y-%m-%d %H:%M UTC"

    @property
    def short_clock_format(self) -> str:
        """strftime format of the clock on a narrow screen."""
        return "%H:%M:%S" if self.clock_seconds else "%H:%M"


DEFAULT = Pace()
SLOW_LINK = Pace(
    poll=10.0,
    side=10.0,
    metrics=30.0,
    log_scroll=10.0,
    log_scroll_focused=2.0,
    clock_seconds=False,
)


def pace_for(slow_link: bool, environ: Mapping[str, str]) -> Pace:
    """The slow pace when asked for by flag or by `QUORUM_SLOW_LINK` (1, yes, true, on)."""
    wanted = environ.get("QUORUM_SLOW_LINK", "").strip().lower() in ("1", "yes", "true", "on")
    return SLOW_LINK if slow_link or wanted else DEFAULT
