"""`--slow-link`: the same screen, redrawn less often, and each interval it claims is the
one the console runs with."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from console.app import QuorumApp
from console.cli.main import main
from console.domain.pace import DEFAULT, SLOW_LINK, pace_for
from tests.app_support import NOW, FakeProvider, make_session, settle, standard_targets
from widgets.base.chrome import Clock


def test_the_flag_or_the_environment_asks_for_the_slow_pace() -> None:
    assert pace_for(False, {}) == DEFAULT
    assert pace_for(True, {}) == SLOW_LINK
    assert pace_for(False, {"QUORUM_SLOW_LINK": "1"}) == SLOW_LINK
    assert pace_for(False, {"QUORUM_SLOW_LINK": " Yes "}) == SLOW_LINK
    assert pace_for(False, {"QUORUM_SLOW_LINK": "0"}) == DEFAULT
    assert pace_for(False, {"QUORUM_SLOW_LINK": ""}) == DEFAULT


def test_a_command_given_the_flag_runs_as_without_it(capsys: pytest.CaptureFixture[str]) -> None:
    """The flag is one of the options every command takes, so one alias serves both."""
    assert main(["--slow-link", "status", "--sandbox", "--json"]) == 0
    slow = [row["service"] for row in json.loads(capsys.readouterr().out)]
    assert main(["status", "--sandbox", "--json"]) == 0
    assert slow == [row["service"] for row in json.loads(capsys.readouterr().out)]


def test_slow_pace_is_slower_at_everything_it_redraws() -> None:
    assert SLOW_LINK.poll > DEFAULT.poll
    assert SLOW_LINK.side > DEFAULT.side
    assert SLOW_LINK.metrics > DEFAULT.metrics
    assert SLOW_LINK.log_scroll > DEFAULT.log_scroll
    assert SLOW_LINK.log_scroll_focused > DEFAULT.log_scroll_focused
    assert DEFAULT.clock_seconds and not SLOW_LINK.clock_seconds


class Now:
    def __init__(self) -> None:
        self.at = NOW + timedelta(seconds=5)

    def __call__(self):
        return self.at


async def _running(tmp_path: Path, pace) -> tuple[QuorumApp, Now]:
    now = Now()
    session = make_session(tmp_path / "data", [FakeProvider("alpha", standard_targets(), tmp_path)])
    return QuorumApp(session, now=now, pace=pace), now


async def test_the_slow_console_runs_with_the_intervals_it_claims(tmp_path: Path) -> None:
    app, now = await _running(tmp_path, SLOW_LINK)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: app.logs.is_attached and app.logs.view.is_attached)
        assert app.hub.interval == SLOW_LINK.poll
        assert app.feeds.side_interval == SLOW_LINK.side
        assert app.feeds.metrics_interval == SLOW_LINK.metrics
        assert app.logs.view.scroll_every == SLOW_LINK.log_scroll
        assert app.logs.view.scroll_every_focused == SLOW_LINK.log_scroll_focused

        # The clock shows minutes, so a tick within the minute sends nothing.
        clock = app.main.query_one(Clock)
        app.paint_chrome()
        assert clock.render().plain.strip() == "2026-03-02 09:00 UTC"
        now.at += timedelta(seconds=40)
        app.paint_chrome()
        assert clock.render().plain.strip() == "2026-03-02 09:00 UTC"
        now.at += timedelta(seconds=20)
        app.paint_chrome()
        assert clock.render().plain.strip() == "2026-03-02 09:01 UTC"


async def test_the_default_console_keeps_its_pace(tmp_path: Path) -> None:
    app, now = await _running(tmp_path, None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: app.logs.is_attached and app.logs.view.is_attached)
        assert app.hub.interval == DEFAULT.poll
        assert app.feeds.metrics_interval == DEFAULT.metrics
        assert app.logs.view.scroll_every == DEFAULT.log_scroll
        clock = app.main.query_one(Clock)
        app.paint_chrome()
        assert clock.render().plain.strip() == "2026-03-02 09:00:05 UTC"
