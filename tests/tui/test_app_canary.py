"""`c` on a row with a canary acts on the team's rule through the actions path: a
canary under 1 % errors is promoted by a deploy the production policy holds for votes,
one over 5 % rolled back without a vote, one in between left alone with the numbers
said. The canary is probed on real local servers beside the sandbox team."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from console.app import QuorumApp
from console.domain.consensus import Kind, State
from console.domain.model import TargetRef
from console.store.audit import AuditLog
from console.store.proposals import ProposalStore
from providers.base import ProviderContext
from providers.health import HealthProvider
from providers.sandbox import PAUSED_AT
from tests.app_support import move_cursor, sandbox_session, settle
from tests.health_support import exposition, threaded_server
from widgets.dialogs.modals import ConfirmScreen
from widgets.main import MainScreen

BUCKETS = {"0.05": 900, "0.1": 980, "0.5": 1000, "+Inf": 1000}
API = TargetRef("sim-k8s", "api", "production", "deployment/api")
ROW = "health/api/production"


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    yield from threaded_server()


def serve(server: HTTPServer, prefix: str, version: str, errors: int) -> None:
    server.expect_request(f"{prefix}/health").respond_with_json(
        {"status": "healthy", "version": version}
    )
    server.expect_request(f"{prefix}/ready").respond_with_json({"status": "ready"})
    server.expect_request(f"{prefix}/metrics").respond_with_data(
        exposition(1000 - errors, errors, BUCKETS), content_type="text/plain; version=0.0.4"
    )


async def app_with_canary(
    tmp_path: Path, server: HTTPServer, *, stable: int, canary: int, errors: int
) -> tuple[QuorumApp, list[str]]:
    """The paused sandbox plus a health block on api in production whose service answers
    as revision `stable` and whose canary as `canary` (indexes into api's history,
    newest first, 0 the running one)."""
    session = sandbox_session(tmp_path / "data")
    history = [r.id for r in await session.providers["sim-k8s"].revisions(API)]
    serve(server, "/api", history[stable], 10)
    serve(server, "/api-canary", history[canary], errors)
    block = {"urls": {"api": server.url_for("/api")},
             "canaries": {"api": server.url_for("/api-canary")}}  # fmt: skip
    context = ProviderContext(data_dir=tmp_path / "data")
    session.providers["health"] = HealthProvider("health", block, context)
    app = QuorumApp(session, now=lambda: PAUSED_AT, poll_interval=0.2, side_interval=0.3)
    return app, history


async def select_canary_row(pilot, app: QuorumApp) -> None:  # noqa: ANN001
    table = app.services.table
    await settle(pilot, lambda: ROW in table.keys and "canary" in table.cells(ROW)[-1])
    move_cursor(table, ROW)
    await settle(pilot, lambda: app.selected is not None and app.selected.key == ROW)


def audit(app: QuorumApp, action: str) -> list[tuple[str, str, str]]:
    with AuditLog(app.session.audit_path) as log:
        return [(r.target, r.revision, r.outcome) for r in log.tail(200) if r.action == action]


def proposals(app: QuorumApp) -> list:
    store = ProposalStore(app.session.audit_path)
    try:
        return store.list([State.OPEN])
    finally:
        store.close()


async def test_a_healthy_canary_is_promoted_by_a_deploy_the_policy_holds_for_votes(
    tmp_path: Path, server: HTTPServer
) -> None:
    app, history = await app_with_canary(tmp_path, server, stable=0, canary=1, errors=5)
    async with app.run_test(size=(120, 40)) as pilot:
        await select_canary_row(pilot, app)
        assert "→ promote" in app.services.table.cells(ROW)[-1]
        await pilot.press("c")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert app.screen.expect == "api"  # production: the service's name
        await pilot.press(*"api", "enter")
        await settle(pilot, lambda: len(proposals(app)) == 1)
        (p,) = proposals(app)
        assert (p.kind, p.ref.key, p.revision) == (Kind.DEPLOY, API.key, history[1])
        assert "errors 0.5% < 1% → promote" in p.reason
        assert audit(app, "deploy") == []  # production needs two approvals first


async def test_a_failing_canary_the_target_runs_is_rolled_back_to_the_stable_revision(
    tmp_path: Path, server: HTTPServer
) -> None:
    app, history = await app_with_canary(tmp_path, server, stable=1, canary=0, errors=80)
    async with app.run_test(size=(120, 40)) as pilot:
        await select_canary_row(pilot, app)
        assert "errors 8% > 5% → roll back" in app.services.table.cells(ROW)[-1]
        await pilot.press("c")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press(*"api", "enter")
        await settle(pilot, lambda: (API.key, history[1], "finished") in audit(app, "rollback"))
        assert proposals(app) == []  # a rollback needs no vote


async def test_between_the_bounds_it_waits_and_says_the_numbers(
    tmp_path: Path, server: HTTPServer
) -> None:
    app, _ = await app_with_canary(tmp_path, server, stable=0, canary=1, errors=30)
    async with app.run_test(size=(120, 40)) as pilot:
        await select_canary_row(pilot, app)
        await pilot.press("c")
        await settle(pilot, lambda: any("nothing to do yet" in m for m in app.notices))
        line = next(m for m in app.notices if "nothing to do yet" in m)
        assert "errors 3% between 1% and 5% → wait" in line
        assert isinstance(app.screen, MainScreen)
        assert proposals(app) == [] and audit(app, "rollback") == []
