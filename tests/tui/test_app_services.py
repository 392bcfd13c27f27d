"""The Services pane driven by keys: rows, sort, filter, scope, health colours, keyed diffs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from console.app import QuorumApp
from console.domain.model import RolloutStatus
from tests.app_support import (
    NOW,
    FakeProvider,
    make_session,
    settle,
    standard_targets,
    target,
    title_of,
)
from widgets.main import MainScreen
from widgets.panes.services import ServicesPane


def _app(tmp_path: Path, *providers: FakeProvider, **kw: object) -> QuorumApp:
    session = make_session(tmp_path / "data", providers, **kw)
    return QuorumApp(session, now=lambda: NOW, poll_interval=0.05)


def _rows(app: QuorumApp) -> list[tuple[str, ...]]:
    table = app.services.table
    return [table.cells(key) for key in table.keys]


async def test_every_target_is_a_row_with_its_columns(tmp_path: Path) -> None:
    app = _app(tmp_path, FakeProvider("alpha", standard_targets(), tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        rows = _rows(app)
        assert rows[0][:8] == ("api", "production", "alpha", "v2.1", "ready", "2/2", "2d", "ok")
        billing = next(r for r in rows if r[0] == "billing")
        assert billing[4:8] == ("failed", "0/3", "3h", "critical")
        web = next(r for r in rows if r[0] == "web")
        assert web[6:8] == ("30s", "warning")
        # At 80 columns every primary column fits; the wide-only ones are dropped.
        shown = [c.key for c, _ in app.services.table.widths(78)]
        assert shown[:8] == [
            "service",
            "environment",
            "provider",
            "revision",
            "status",
            "ready",
            "age",
            "health",
        ]
        assert "message" not in shown


async def test_wide_terminal_shows_metrics_and_message_columns(tmp_path: Path) -> None:
    app = _app(tmp_path, FakeProvider("alpha", standard_targets(), tmp_path))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        width = app.services.table.scrollable_content_region.width
        shown = [c.key for c, _ in app.services.table.widths(width)]
        assert {"cpu", "memory", "errors", "p99", "message"} <= set(shown)
        assert isinstance(app.screen, MainScreen) and app.screen.wide


async def test_health_cell_is_coloured_by_threshold(tmp_path: Path) -> None:
    app = _app(tmp_path, FakeProvider("alpha", standard_targets(), tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        cells = app.services.table._cells
        assert "red" in str(cells["alpha/billing/production"][7].style)
        assert "yellow" in str(cells["alpha/web/staging"][7].style)
        assert "green" in str(cells["alpha/api/production"][7].style)


async def test_shift_keys_sort_and_repeat_reverses(tmp_path: Path) -> None:
    app = _app(tmp_path, FakeProvider("alpha", standard_targets(), tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        await pilot.press("S")
        assert [r[4] for r in _rows(app)] == ["failed", "progressing", "ready", "ready"]
        await pilot.press("A")
        assert [r[6] for r in _rows(app)] == ["30s", "5m", "3h", "2d"]
        await pilot.press("A")
        assert [r[6] for r in _rows(app)] == ["2d", "3h", "5m", "30s"]
        await pilot.press("N")
        assert [(r[0], r[1]) for r in _rows(app)] == [
            ("api", "production"),
            ("api", "staging"),
            ("billing", "production"),
            ("web", "staging"),
        ]
        assert "sort name" in title_of(app.services)


async def test_cursor_follows_its_row_across_a_sort(tmp_path: Path) -> None:
    app = _app(tmp_path, FakeProvider("alpha", standard_targets(), tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        await pilot.press("down", "down")
        assert app.services.table.cursor_key == "alpha/billing/production"
        await pilot.press("S")
        assert app.services.table.keys[0] == "alpha/billing/production"
        assert app.services.table.cursor_key == "alpha/billing/production"


async def test_slash_filters_and_escape_clears(tmp_path: Path) -> None:
    app = _app(tmp_path, FakeProvider("alpha", standard_targets(), tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        await pilot.press("slash", *"prod", "enter")
        assert [r[1] for r in _rows(app)] == ["production", "production"]
        assert "/prod" in title_of(app.services)
        await pilot.press("slash", *"failed|progressing", "enter")
        assert sorted(r[0] for r in _rows(app)) == ["billing", "web"]
        await pilot.press("escape")
        assert len(_rows(app)) == 4
        assert app.services.filter_text == ""


async def test_env_and_provider_commands_scope_the_table(tmp_path: Path) -> None:
    alpha = FakeProvider("alpha", standard_targets(), tmp_path)
    beta = FakeProvider("beta", [target("beta", "search", "production")], tmp_path)
    app = _app(tmp_path, alpha, beta)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 5)
        await pilot.press("colon", *"env production", "enter")
        assert {r[1] for r in _rows(app)} == {"production"}
        assert len(_rows(app)) == 3
        await pilot.press("colon", *"ctx beta", "enter")
        assert [r[0] for r in _rows(app)] == ["search"]
        await pilot.press("colon", *"provider all", "enter")
        await pilot.press("colon", *"env all", "enter")
        assert len(_rows(app)) == 5
        assert app.prompt.run("env nowhere") is False
        assert app.prompt.environment is None
        assert app.prompt.run("provider gamma") is False


async def test_a_changed_target_repaints_only_its_row(tmp_path: Path) -> None:
    alpha = FakeProvider("alpha", standard_targets(), tmp_path)
    app = _app(tmp_path, alpha)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.services.table
        await settle(pilot, lambda: len(table.keys) == 4)
        await settle(pilot, lambda: alpha.polls >= 3)
        before = table.repaints
        polls = alpha.polls
        await settle(pilot, lambda: alpha.polls >= polls + 2)
        assert table.repaints == before  # unchanged polls repaint nothing
        alpha.set("web", "staging", ready=2, status=RolloutStatus.READY)
        await settle(pilot, lambda: table.cells("alpha/web/staging")[5] == "2/2")
        assert table.repaints == before + 1


async def test_new_and_removed_targets_appear_and_go(tmp_path: Path) -> None:
    alpha = FakeProvider("alpha", standard_targets(), tmp_path)
    app = _app(tmp_path, alpha)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: len(app.services.table.keys) == 4)
        alpha.targets.append(target("alpha", "auth", "dev", age=timedelta(minutes=1)))
        await settle(pilot, lambda: "alpha/auth/dev" in app.services.table.keys)
        alpha.targets = alpha.targets[1:]
        await settle(pilot, lambda: "alpha/api/production" not in app.services.table.keys)
        assert app.services.table.keys[0] == "alpha/api/staging"


async def test_pane_selection_is_posted(tmp_path: Path) -> None:
    app = _app(tmp_path, FakeProvider("alpha", standard_targets(), tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: app.selected is not None)
        assert app.selected.key == "alpha/api/production"
        await pilot.press("down")
        await settle(pilot, lambda: app.selected.key == "alpha/api/staging")
        assert isinstance(app.services, ServicesPane)
