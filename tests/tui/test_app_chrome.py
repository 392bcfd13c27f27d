"""The top line says whose console this is at every size: the team, the sandbox marker
(a sandbox must never pass for the real team) and read-only, never cut for the strip."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from console.app import QuorumApp
from console.config.sandbox_team import sandbox_config
from console.domain.identity import Identity
from tests.app_support import (
    NOW,
    FakeProvider,
    make_session,
    screen_lines,
    settle,
    standard_targets,
)

SIZES = [(80, 24), (100, 30), (120, 40)]


def _app(
    tmp_path: Path, *, sandbox: bool, readonly: bool = False, user: str = "marguerite"
) -> QuorumApp:
    config = replace(sandbox_config(), providers=(), team_name="night-shift")
    if not sandbox:
        config = replace(config, source=tmp_path / "quorum.toml")
    provider = FakeProvider("alpha", standard_targets(), tmp_path)
    session = make_session(tmp_path / "data", [provider], config=config, readonly=readonly)
    return QuorumApp(session, now=lambda: NOW, identity=Identity(user, user))


@pytest.mark.parametrize("size", SIZES)
async def test_team_and_sandbox_marker_always_on_the_top_line(tmp_path: Path, size) -> None:
    app = _app(tmp_path, sandbox=True, readonly=True)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, lambda: "audit" in app.main.panes)
        await settle(pilot, lambda: "night-shift" in screen_lines(app)[0])
        top = screen_lines(app)[0]
        for part in ("SANDBOX", "night-shift", "READ-ONLY", "marguerite", "09:00:00"):
            assert part in top, (part, top)
        assert top.rstrip().endswith(("09:00:00", "09:00:00 UTC"))  # a strip is cut first


async def test_the_strip_at_80_columns_names_every_lower_pane(tmp_path: Path) -> None:
    app = _app(tmp_path, sandbox=True, user="kim")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: "audit" in screen_lines(app)[0])
        top = screen_lines(app)[0].split()
        assert top[:4] == ["Quorum", "SANDBOX", "night-shift", "kim"]
        assert top[4:] == ["logs", "metrics", "apr", "rot", "audit", "09:00:00"]


async def test_a_real_team_is_not_marked_sandbox(tmp_path: Path) -> None:
    app = _app(tmp_path, sandbox=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: "night-shift" in screen_lines(app)[0])
        assert "SANDBOX" not in screen_lines(app)[0]
