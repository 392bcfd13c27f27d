"""What the console's pilot tests share: a small in-memory provider and a session around it.

The provider is a real `Provider` subclass driven through the same contract as a
backend (snapshot, logs, metrics); a test changes its targets, feeds log lines or
makes it fail, and watches what the console shows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.text import Text
from textual.app import App
from textual.css.query import NoMatches
from textual.pilot import Pilot

from console.domain.model import (
    CPU,
    ERROR_RATE,
    MEMORY,
    P99,
    LogLine,
    Revision,
    RolloutStatus,
    Series,
    Snapshot,
    Target,
    TargetRef,
)
from console.domain.settings import Config, Policy
from console.engine.session import Session
from providers.base import Capability, Provider, ProviderContext
from providers.registry import BrokenProvider
from widgets.base.logview import LogView
from widgets.base.pane import Pane
from widgets.base.table import KeyedTable

NOW = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


def target(
    provider: str,
    service: str,
    environment: str,
    *,
    revision: str = "v1",
    status: RolloutStatus = RolloutStatus.READY,
    ready: int = 2,
    desired: int = 2,
    age: timedelta = timedelta(hours=1),
    metrics: dict[str, float] | None = None,
    message: str = "",
) -> Target:
    return Target(
        ref=TargetRef(provider, service, environment, f"deployment/{service}"),
        revision=revision,
        status=status,
        ready=ready,
        desired=desired,
        updated_at=NOW - age,
        message=message,
        metrics=metrics if metrics is not None else {CPU: 20.0, MEMORY: 40.0},
    )


class FakeProvider(Provider):
    """Targets, log lines and metrics a test sets; `fail` makes the next polls raise."""

    kind = "fake"
    capabilities = (
        Capability.SNAPSHOT
        | Capability.LOGS
        | Capability.METRICS
        | Capability.REVISIONS
        | Capability.DEPLOY
        | Capability.ROLLBACK
    )

    def __init__(
        self,
        name: str,
        targets: Iterable[Target],
        data_dir: Path,
        *,
        lines: Iterable[LogLine] = (),
        readonly: bool = False,
    ) -> None:
        super().__init__(name, {}, ProviderContext(data_dir=data_dir, readonly=readonly))
        self.targets = list(targets)
        self.lines = list(lines)
        self.fail: Exception | None = None
        self.metrics_fail: Exception | None = None
        self.polls = 0
        self.log_calls: list[tuple[str, timedelta | None, int | None]] = []
        self.log_options: list[tuple[str | None, bool, bool]] = []  # container, previous, follow
        self.feed: asyncio.Queue[list[LogLine]] = asyncio.Queue()
        self.series: dict[str, list[float]] = {
            CPU: [20, 30, 40, 95],
            MEMORY: [50, 50, 60, 60],
            ERROR_RATE: [0.1, 0.2, 2.0, 0.5],
            P99: [200, 300, 700, 1200],
        }

    def set(self, service: str, environment: str, **changes: object) -> None:
        for i, t in enumerate(self.targets):
            if t.ref.service == service and t.ref.environment == environment:
                self.targets[i] = replace(t, **changes)

    async def snapshot(self) -> Snapshot:
        self.polls += 1
        if self.fail is not None:
            raise self.fail
        return Snapshot(self.name, tuple(self.targets), NOW)

    async def logs(
        self,
        target: TargetRef,
        *,
        follow: bool = False,
        since: timedelta | None = None,
        tail: int | None = None,
        container: str | None = None,
        previous: bool = False,
    ) -> AsyncIterator[LogLine]:
        self.log_calls.append((target.key, since, tail))
        self.log_options.append((container, previous, follow))
        for line in self.lines:
            yield line
        while follow:
            for line in await self.feed.get():
                yield line

    async def metrics(self, target: TargetRef, window: timedelta) -> list[Series]:
        if self.metrics_fail is not None:
            raise self.metrics_fail
        return [
            Series(
                name, tuple((NOW - timedelta(seconds=5 * (len(v) - i)), x) for i, x in enumerate(v))
            )
            for name, v in self.series.items()
        ]

    async def revisions(self, target: TargetRef) -> list[Revision]:
        current = next(t.revision for t in self.targets if t.ref == target)
        ids = [current, "v0.9", "v0.8"] if current != "v0.9" else ["v0.9", "v0.8"]
        return [
            Revision(r, NOW - timedelta(days=i), current=r == current) for i, r in enumerate(ids)
        ]


def _points(values: list[float]) -> tuple[tuple[datetime, float], ...]:
    return tuple((NOW - timedelta(seconds=5 * (len(values) - i)), v) for i, v in enumerate(values))


def line(text: str, level: str = "INFO", seconds: int = 0) -> LogLine:
    return LogLine(ts=NOW + timedelta(seconds=seconds), text=text, level=level, source="pod-1")


def standard_targets(provider: str = "alpha") -> list[Target]:
    return [
        target(provider, "api", "production", revision="v2.1", age=timedelta(days=2)),
        target(provider, "api", "staging", revision="v2.2", age=timedelta(minutes=5)),
        target(
            provider,
            "billing",
            "production",
            status=RolloutStatus.FAILED,
            ready=0,
            desired=3,
            age=timedelta(hours=3),
            metrics={CPU: 97.0, ERROR_RATE: 7.5},
            message="CrashLoopBackOff",
        ),
        target(
            provider,
            "web",
            "staging",
            status=RolloutStatus.PROGRESSING,
            ready=1,
            desired=2,
            age=timedelta(seconds=30),
            metrics={CPU: 75.0},
        ),
    ]


def make_session(
    data_dir: Path,
    providers: Iterable[Provider],
    *,
    readonly: bool = False,
    config: Config | None = None,
    broken: Iterable[BrokenProvider] = (),
) -> Session:
    data_dir.mkdir(parents=True, exist_ok=True)
    config = config or Config(
        team_name="testers",
        members=("me", "alice", "bob"),
        policies={"production": Policy("production", min_approvals=2)},
    )
    return Session(
        config=config,
        data_dir=data_dir,
        readonly=readonly,
        providers={p.name: p for p in providers},
        broken=list(broken),
    )


async def settle(
    pilot: Pilot, until: Callable[[], bool], limit: float = 60.0, tries: int = 0
) -> None:
    """Let the app run until `until()` holds; fails the test if it never does.

    Not a timing assertion: the limit only keeps a broken app from hanging the run,
    and is generous so a loaded machine never fails a correct console. `tries`
    (rounds of 20 ms) may only lengthen it.
    """
    deadline = time.monotonic() + max(limit, tries * 0.02)
    while time.monotonic() < deadline:
        try:
            if until():
                return
        except NoMatches:  # the screen is not composed yet
            pass
        await asyncio.sleep(0.02)
    raise AssertionError("the console never reached the expected state")


async def open_by_command(pilot: Pilot, command: str, pane: Callable[[], Pane] | Pane) -> None:
    """Type `:command` and wait until the pane (or what `pane()` finds, once the panes
    mounted after the first frame are there) holds the focus.

    A person sees the pane take the cursor before pressing its keys; a key sent
    before the prompt has handed over the focus would land elsewhere.
    """
    find = pane if callable(pane) else (lambda: pane)
    await settle(pilot, lambda: find() is not None)  # mounted (NoMatches until then)
    await pilot.press("colon", *command, "enter")
    try:
        await settle(pilot, lambda: find().has_focus_within)
    except AssertionError:
        app = pilot.app
        raise AssertionError(
            f":{command} never gave its pane the focus: screen {app.screen!r}, "
            f"focused {app.focused!r}, notices {list(getattr(app, 'notices', []))[-3:]}"
        ) from None


def sandbox_session(data_dir: Path, *, readonly: bool = False, watch: bool = False) -> Session:
    """The built-in sandbox team on a paused world: the same screen on every run.

    Its monitoring (sim-watch: health rows and the alerts strip) only with `watch`: the
    paused instant has an incident firing, whose strip and rows would change every
    screen a test reads for something else."""
    from console.config.sandbox_team import sandbox_config
    from providers.registry import build_provider

    config = sandbox_config()
    config = replace(
        config,
        providers=tuple(
            replace(pc, settings={**pc.settings, "paused": True})
            for pc in config.providers
            if watch or pc.kind != "sandbox-watch"
        ),
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    context = ProviderContext(data_dir=data_dir, readonly=readonly)
    providers = {}
    for pc in config.providers:
        built = build_provider(pc.name, pc.kind, dict(pc.settings), context)
        assert isinstance(built, Provider), built
        providers[pc.name] = built
    return Session(config=config, data_dir=data_dir, readonly=readonly, providers=providers)


def move_cursor(table: KeyedTable, key: str) -> None:
    """Put `table`'s cursor on `key` the way the arrow keys do (one row at a time)."""
    keys = table.keys
    assert key in keys, f"{key} is not shown"
    while table.cursor_key != key:
        here = keys.index(table.cursor_key) if table.cursor_key in keys else 0
        table.action_cursor(1 if keys.index(key) > here else -1)


def title_of(pane: Pane) -> str:
    """A pane's top edge as plain text."""
    return Text.from_markup(pane.border_title or "").plain


def status_of(pane: Pane) -> str:
    """A pane's bottom edge (its status line) as plain text."""
    return Text.from_markup(pane.border_subtitle or "").plain


def visible_text(view: LogView) -> list[str]:
    """The plain text of each line of a log view on screen now, as rendered."""
    return [view.render_line(y).text.rstrip() for y in range(view.scrollable_content_region.height)]


def screen_lines(app: App) -> list[str]:
    """The terminal's lines as a person reads them now (what the compositor paints)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]
