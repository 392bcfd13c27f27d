"""The Logs pane: follow, toggles, windows, filter, save, the line cap, floods, hostile text."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from rich.style import Style

from console.app import QuorumApp
from console.domain.model import PodInfo, TargetDetails, TargetRef
from tests.app_support import (
    NOW,
    FakeProvider,
    line,
    make_session,
    settle,
    standard_targets,
    status_of,
    title_of,
    visible_text,
)
from widgets.base.logview import MATCH_STYLE


def _app(tmp_path: Path, provider: FakeProvider, **kw: object) -> QuorumApp:
    session = make_session(tmp_path / "data", [provider])
    return QuorumApp(session, now=lambda: NOW, poll_interval=0.05, **kw)


def _provider(tmp_path: Path, lines: list | None = None) -> FakeProvider:
    default = [
        line("GET /orders 200", seconds=1),
        line("payment declined for order 17", level="ERROR", seconds=2),
        line("GET /health 200", seconds=3),
    ]
    return FakeProvider("alpha", standard_targets(), tmp_path, lines=lines or default)


async def _ready(pilot, app: QuorumApp, count: int = 3) -> None:
    """The first lines arrived and the view is laid out and shows them: lines can be
    flushed before the pane has its size, and then nothing is on screen yet."""

    def shown() -> bool:
        view = app.logs.view
        return len(view.lines) >= count and any(visible_text(view))

    await settle(pilot, shown)


async def test_selected_target_is_followed(tmp_path: Path) -> None:
    provider = _provider(tmp_path)
    app = _app(tmp_path, provider)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot, app)
        assert provider.log_calls[0] == ("alpha/api/production", None, 200)
        assert "api@production" in title_of(app.logs)
        text = visible_text(app.logs.view)
        assert text[:3] == [
            "INFO  pod-1 GET /orders 200",
            "ERROR pod-1 payment declined for order 17",
            "INFO  pod-1 GET /health 200",
        ]
        # Lines fed later arrive through the follow stream.
        provider.feed.put_nowait([line("late line", seconds=9)])
        await settle(pilot, lambda: "INFO  pod-1 late line" in visible_text(app.logs.view))
        # Another row restarts the stream for that target; the old one is cancelled.
        await pilot.press("down")
        await settle(pilot, lambda: len(provider.log_calls) == 2)
        assert provider.log_calls[1][0] == "alpha/api/staging"
        await settle(pilot, lambda: "api@staging" in title_of(app.logs))
        workers = [w for w in app.logs.workers if w.group == "logs" and w.is_running]
        assert len(workers) == 1


async def test_escape_sequences_and_markup_show_as_literal_text(tmp_path: Path) -> None:
    hostile = "\x1b]0;owned\x07[bold red]FAKE ALERT[/] \x1b[2J\x1b]52;c;cGF5bG9hZA==\x07 done"
    provider = _provider(tmp_path, [line(hostile)])
    app = _app(tmp_path, provider)
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot, app, 1)
        strip = app.logs.view.render_line(0)
        text = strip.text
        assert "[bold red]FAKE ALERT[/]" in text
        assert "\x1b" not in text and "\x07" not in text
        assert "␛]0;owned␇" in text
        # No segment carries a style the line asked for: markup was never parsed.
        assert not any(seg.style and seg.style.bold and seg.style.color for seg in strip)


async def test_toggles_for_autoscroll_wrap_and_timestamps(tmp_path: Path) -> None:
    long = "x" * 150
    provider = _provider(tmp_path, [line("first"), line(long, seconds=5)])
    app = _app(tmp_path, provider)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot, app, 2)
        await pilot.press("l")
        await settle(pilot, lambda: app.focused is app.logs.view)
        view = app.logs.view
        assert (view.autoscroll, view.wrap, view.timestamps) == (True, False, False)
        await pilot.press("s")
        assert view.autoscroll is False
        assert "paused" in title_of(app.logs)
        await pilot.press("w")
        assert view.wrap is True
        assert view.virtual_size.height >= 3  # the long line takes two rows or more
        await pilot.press("t")
        assert view.timestamps is True
        assert visible_text(view)[0] == "09:00:00 INFO  pod-1 first"
        await pilot.press("t", "w", "s")
        assert (view.autoscroll, view.wrap, view.timestamps) == (True, False, False)
        assert view.virtual_size.height == 2


async def test_number_keys_pick_k9s_time_windows(tmp_path: Path) -> None:
    provider = _provider(tmp_path)
    app = _app(tmp_path, provider)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot, app)
        await pilot.press("l")
        await pilot.press("3")
        await settle(pilot, lambda: len(provider.log_calls) == 2)
        assert provider.log_calls[-1] == ("alpha/api/production", timedelta(minutes=5), None)
        assert "window 5m" in title_of(app.logs)
        await pilot.press("6")
        await settle(pilot, lambda: len(provider.log_calls) == 3)
        assert provider.log_calls[-1][1] == timedelta(hours=1)
        await pilot.press("1")
        await settle(pilot, lambda: len(provider.log_calls) == 4)
        assert provider.log_calls[-1][1:] == (None, None)
        await pilot.press("0")
        await settle(pilot, lambda: len(provider.log_calls) == 5)
        assert provider.log_calls[-1][1:] == (None, 200)


async def test_filter_keeps_matches_and_highlights_them(tmp_path: Path) -> None:
    provider = _provider(tmp_path)
    app = _app(tmp_path, provider)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot, app)
        await pilot.press("l", "slash", *"declined", "enter")
        view = app.logs.view
        assert [ln.text for ln in view.shown] == ["payment declined for order 17"]
        strip = view.render_line(0)
        match_bg = Style.parse(MATCH_STYLE).bgcolor
        highlighted = [seg.text for seg in strip if seg.style and seg.style.bgcolor == match_bg]
        assert highlighted == ["declined"]
        assert "/declined" in title_of(app.logs)
        # New lines are filtered as they arrive.
        provider.feed.put_nowait([line("declined again"), line("unrelated")])
        await settle(pilot, lambda: len(view.lines) == 5)
        assert [ln.text for ln in view.shown][-1] == "declined again"
        await pilot.press("escape")
        assert len(view.shown) == 5


async def test_ctrl_s_saves_the_shown_lines(tmp_path: Path) -> None:
    provider = _provider(tmp_path)
    app = _app(tmp_path, provider)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot, app)
        await pilot.press("l", "ctrl+s")
        saved = app.logs.last_saved
        assert saved is not None and saved.parent == tmp_path / "data" / "logs"
        lines = saved.read_text().splitlines()
        assert lines == [
            "2026-03-02T09:00:01.000000Z INFO pod-1 GET /orders 200",
            "2026-03-02T09:00:02.000000Z ERROR pod-1 payment declined for order 17",
            "2026-03-02T09:00:03.000000Z INFO pod-1 GET /health 200",
        ]
        assert any(str(saved) in m for m in app.notices)


async def test_line_cap_bounds_memory(tmp_path: Path) -> None:
    provider = _provider(tmp_path, [line(f"line {i}") for i in range(1000)])
    app = _app(tmp_path, provider, log_cap=100)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: app.logs.view.received == 1000)
        await settle(pilot, lambda: not app.logs.view._pending)
        view = app.logs.view
        assert len(view.lines) == 100 and len(view.shown) == 100
        assert view.shown[0].text == "line 900" and view.shown[-1].text == "line 999"
        assert view.virtual_size.height == 100


async def test_a_flood_is_batched_and_keys_still_work(tmp_path: Path) -> None:
    provider = _provider(tmp_path, [line("start")])
    app = _app(tmp_path, provider, log_cap=5000)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot, app, 1)
        await pilot.press("l")
        for batch in range(10):
            provider.feed.put_nowait([line(f"flood {batch}-{i}") for i in range(5000)])
        await pilot.press("w")
        await settle(pilot, lambda: app.logs.view.received == 50_001)
        await pilot.press("w")
        view = app.logs.view
        assert view.wrap is False
        await settle(pilot, lambda: not view._pending)
        assert len(view.lines) == 5000
        assert view.shown[-1].text == "flood 9-4999"


async def test_zoom_and_back(tmp_path: Path) -> None:
    provider = _provider(tmp_path)
    app = _app(tmp_path, provider)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot, app)
        await pilot.press("l", "f")
        assert app.screen.maximized is app.logs
        await pilot.press("escape")
        assert app.screen.maximized is None
        await pilot.press("enter")
        assert app.screen.maximized is app.logs
        await pilot.press("escape")
        assert app.screen.maximized is None


async def test_a_failing_stream_ends_with_a_notice(tmp_path: Path) -> None:
    class Failing(FakeProvider):
        async def logs(self, target, *, follow=False, since=None, tail=None, **options):
            yield line("one line, then trouble")
            raise RuntimeError("connection reset")

    provider = Failing("alpha", standard_targets(), tmp_path)
    app = _app(tmp_path, provider)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: "stream stopped" in status_of(app.logs))
        assert "connection reset" in status_of(app.logs)
        assert app.is_running
        assert any("connection reset" in m for m in app.notices)


class Pods(FakeProvider):
    """Two pods per target, each running `containers`."""

    containers: tuple[str, ...] = ("app", "proxy")

    async def details(self, target: TargetRef) -> TargetDetails:
        found = next(t for t in self.targets if t.ref == target)
        pods = tuple(
            PodInfo(f"{target.service}-{i}", "Running", True, containers=self.containers)
            for i in range(2)
        )
        return TargetDetails(found, pods)


async def test_p_reads_the_previous_instance_and_back(tmp_path: Path) -> None:
    provider = _provider(tmp_path)
    app = _app(tmp_path, provider)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot, app)
        assert provider.log_options[-1] == (None, False, True)
        await pilot.press("l", "p")
        await settle(pilot, lambda: len(provider.log_options) == 2)
        # An ended instance is read, not followed.
        assert provider.log_options[-1] == (None, True, False)
        assert "previous" in title_of(app.logs)
        await settle(pilot, lambda: status_of(app.logs) == "end of the previous instance")
        await pilot.press("p")
        await settle(pilot, lambda: len(provider.log_options) == 3)
        assert provider.log_options[-1] == (None, False, True)
        assert "previous" not in title_of(app.logs)


async def test_c_steps_through_the_containers_then_back_to_all(tmp_path: Path) -> None:
    provider = Pods("alpha", standard_targets(), tmp_path, lines=[line("hello")])
    app = _app(tmp_path, provider)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot, app, 1)
        await pilot.press("l")
        for expected in ("app", "proxy", None):
            calls = len(provider.log_options)
            await pilot.press("c")
            await settle(pilot, lambda calls=calls: len(provider.log_options) == calls + 1)
            assert provider.log_options[-1] == (expected, False, True)
            assert provider.log_calls[-1][0] == "alpha/api/production"
            shown = f"container {expected}" in title_of(app.logs)
            assert shown if expected else "container" not in title_of(app.logs)
        # A container and the previous instance together; another target starts afresh.
        await pilot.press("c", "p")
        await settle(pilot, lambda: provider.log_options[-1] == ("app", True, False))
        app.services.table.focus()
        await pilot.press("down")
        await settle(pilot, lambda: provider.log_calls[-1][0] == "alpha/api/staging")
        assert provider.log_options[-1] == (None, False, True)
        assert "container" not in title_of(app.logs)


async def test_c_with_one_container_says_so_and_keeps_the_stream(tmp_path: Path) -> None:
    provider = Pods("alpha", standard_targets(), tmp_path, lines=[line("hello")])
    provider.containers = ("app",)
    app = _app(tmp_path, provider)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot, app, 1)
        await pilot.press("l", "c")
        await settle(pilot, lambda: any("has one container: app" in m for m in app.notices))
        assert len(provider.log_options) == 1


async def test_c_where_the_provider_lists_no_pods_is_a_notice(tmp_path: Path) -> None:
    provider = _provider(tmp_path)  # the fake provider has no details
    app = _app(tmp_path, provider)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot, app)
        await pilot.press("l", "c")
        wanted = "no container list for api@production"
        await settle(pilot, lambda: any(wanted in m for m in app.notices))
        assert app.is_running and len(provider.log_options) == 1
