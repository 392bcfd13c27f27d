"""The lines around the panes: the top bar, the provider status lines, the prompt.

The top bar says who is at the keyboard, for which team, in which scope, and which
lower pane is on show in a narrow terminal; the status lines name every stale or
broken provider with its age and error, so stale data is never mistaken for live.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, Static

from console.domain.inert import neutralise
from console.domain.wording import count
from widgets.base.format import age


@dataclass(frozen=True)
class ProviderLine:
    """One provider as the status lines show it."""

    name: str
    kind: str
    state: str  # "ok" | "stale" | "broken" | "waiting"
    detail: str = ""
    since: datetime | None = None


# The pane strip of a narrow terminal names panes by their `:` aliases where those are
# shorter, so the team and the sandbox marker always fit at 80 columns.
STRIP_LABELS = {"approvals": "apr", "rotation": "rot"}


class TopBar(Widget):
    """Title, team, identity, scope and the pane strip (the clock is its neighbour).

    What says where the keys act comes first and is never cut: the team, and a marker
    for the sandbox and for a read-only console. The strip comes last: Tab and `:`
    reach the same panes."""

    DEFAULT_CSS = "TopBar { width: auto; height: 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown = Text()

    def render(self) -> Text:
        return self._shown

    def show(
        self,
        *,
        team: str,
        user: str,
        scope: str,
        panes: Sequence[str],
        current: str,
        readonly: bool,
        sandbox: bool = False,
        room: int | None = None,
    ) -> None:
        """`panes` empty means a wide layout (every pane on screen, no strip needed).
        `room`: the cells it may take (the clock keeps the rest); the strip's end is cut
        first, so what comes before it always shows."""
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(" Quorum ", style="bold reverse")
        if sandbox:
            text.append(" ")
            text.append(" SANDBOX ", style="bold black on magenta")
        text.append(f" {neutralise(team)}", style="bold")
        if readonly:
            text.append(" ")
            text.append(" READ-ONLY ", style="bold black on yellow")
        text.append(f" {neutralise(user)} ")
        if scope:
            text.append(f"{neutralise(scope)} ", style="cyan")
        for name in panes:
            look = Style.parse("bold reverse" if name == current else "dim")
            # Clicking a name shows that pane: the mouse works, nothing needs it.
            text.append(
                f" {STRIP_LABELS.get(name, name)} ",
                style=look + Style(meta={"@click": f"app.show_pane({name!r})"}),
            )
        if room is not None and text.cell_len > room:
            text.truncate(max(room, 0), overflow="ellipsis")
        if text != self._shown:
            layout = text.cell_len != self._shown.cell_len
            self._shown = text
            self.refresh(layout=layout)


class Clock(Widget):
    """The time, right after the top bar's text.

    It ticks every second (operators match it against log timestamps), so it is a
    widget of its own and a tick repaints only its own cells: over SSH a few dozen
    bytes a second, not a terminal row.
    """

    DEFAULT_CSS = "Clock { width: 1fr; height: 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown = Text()

    def render(self) -> Text:
        return self._shown

    def show(self, clock: str) -> None:
        text = Text(f" {clock}", style="dim", no_wrap=True, overflow="ellipsis", end="")
        if text == self._shown:
            return
        width = max(text.cell_len, self._shown.cell_len)
        self._shown = text
        self.refresh(Region(0, 0, width, 1))


class ProviderStatus(Static):
    """One line per stale or broken provider, or one summary line when all are well."""

    def show(
        self,
        lines: Sequence[ProviderLine],
        now: datetime,
        *,
        ledger: str = "",
        ledger_stale: str = "",
    ) -> None:
        """`ledger` is what the team's votes prove (signed or not), kept on the first line;
        `ledger_stale` why the team's ledger is out of reach, first of all when it is."""
        text = Text(no_wrap=True, overflow="ellipsis")
        bad = [line for line in lines if line.state in ("stale", "broken")]
        if ledger_stale:
            text.append(" ✖ ledger stale: ", style="bold red")
            text.append(f"{neutralise(ledger_stale)} ·", style="red")
        if ledger:
            unsigned = ledger.startswith("votes unsigned")
            text.append(f" {neutralise(ledger)} ·", style="bold yellow" if unsigned else "dim")
        if not bad:
            waiting = sum(1 for line in lines if line.state == "waiting")
            ok = sum(1 for line in lines if line.state == "ok")
            text.append(f" ✓ {count(ok, 'provider')} live", style="green")
            if waiting:
                text.append(f" · {waiting} waiting for a first answer", style="dim")
        for n, line in enumerate(bad):
            if n:
                text.append("\n")
            if line.state == "broken":
                text.append(" ✖ ", style="bold red")
                text.append(f"{neutralise(line.name)} ({neutralise(line.kind)}) broken: ")
                text.append(neutralise(line.detail), style="red")
            else:
                text.append(" ⚠ ", style="bold yellow")
                if line.since is None:  # failed from the first call: nothing of it shown
                    text.append(f"{neutralise(line.name)} never answered, nothing shown from it: ")
                else:
                    text.append(
                        f"{neutralise(line.name)} stale, last good {age(now, line.since)} ago: "
                    )
                text.append(neutralise(line.detail), style="yellow")
        if text != getattr(self, "_shown", None):
            # Polls that change nothing repaint nothing; a layout pass only when the
            # number of lines changes.
            lines_before = getattr(self, "_shown", Text()).plain.count("\n")
            self._shown = text
            self.update(text, layout=text.plain.count("\n") != lines_before)


class ActionProgress(Static):
    """How far a long change has got (an ECS rollout, a site upload), under the panes.

    Hidden while nothing runs. The final report (done == total) shows the outcome for
    a few seconds, then the line goes, so an idle console sends nothing for it.
    """

    WIDTH = 20
    LINGER = 5.0

    def on_mount(self) -> None:
        self.display = False
        self._shown = 0  # reports shown so far: a timer hides only the report it was set for

    def show(self, what: str, done: int, total: int) -> None:
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        if total > 0:
            filled = min(self.WIDTH, self.WIDTH * max(done, 0) // total)
            text.append(" ▕")
            text.append("█" * filled, style="green")
            text.append("░" * (self.WIDTH - filled), style="dim")
            text.append(f"▏ {done}/{total} ")
        else:
            text.append(" … ", style="bold")
        text.append(neutralise(what))
        self.update(text)
        self.display = True
        self._shown += 1
        if total > 0 and done >= total:
            self.set_timer(self.LINGER, lambda shown=self._shown: self._hide(shown))

    def _hide(self, shown: int) -> None:
        if shown == self._shown:  # no later action has started reporting since
            self.display = False


class CommandBar(Input):
    """The `:` command and `/` filter prompt, k9s style; Esc closes it.

    It takes keys the moment it opens and hands the answer back synchronously, so
    a fast typist's `:logs⏎` followed by another key never loses a key to a pane.
    """

    # Tab completes the suggested command here; elsewhere it goes to the next pane, which
    # would leave the prompt open behind it.
    BINDINGS = [
        Binding("escape", "close", "Close", show=False),
        Binding("tab", "complete", "Complete", show=False),
    ]

    def __init__(
        self,
        commands: Sequence[str],
        on_done: Callable[[str, str | None], None],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, suggester=SuggestFromList(commands, case_sensitive=False))
        self.mode = ":"
        self.on_done = on_done

    def open(self, mode: str, value: str = "") -> None:
        self.mode = mode
        self.placeholder = (
            "command: svc, logs, metrics, approvals, rotation, audit, env NAME, provider NAME"
            if mode == ":"
            else "filter (regex; empty clears)"
        )
        self.border_title = mode
        self.value = value
        self.display = True
        self.screen.set_focus(self)

    def _finish(self, value: str | None) -> None:
        self.display = False
        self.screen.set_focus(None)
        self.on_done(self.mode, value)

    def action_close(self) -> None:
        self._finish(None)

    def action_complete(self) -> None:
        if self._suggestion:
            self.value = self._suggestion
            self.cursor_position = len(self.value)

    async def action_submit(self) -> None:
        self._finish(self.value)
