"""Alerts from a real Alertmanager on the console: the strip, the rows of the services
they name, and a silence made with `:silence` that Alertmanager then reports."""

from __future__ import annotations

import uuid
from pathlib import Path

from textual.widgets import Input

from console.app import QuorumApp
from console.domain.identity import Identity
from console.engine.session import Session
from providers.alertmanager import AlertmanagerProvider
from providers.base import ProviderContext
from tests.alertmanager_support import Alertmanager, alertmanager_fixture
from tests.app_support import sandbox_session, screen_lines, settle
from widgets.base.alerts import AlertsStrip
from widgets.dialogs.modals import FormScreen, PickScreen

__all__ = ["alertmanager_fixture"]  # the `alertmanager` fixture, used below by name

ROW = "sim-k8s/api/production"


def session_with_alerts(tmp_path: Path, url: str, *, readonly: bool = False) -> Session:
    """The paused sandbox team, plus an Alertmanager block watching `url`."""
    session = sandbox_session(tmp_path / "data", readonly=readonly)
    context = ProviderContext(data_dir=tmp_path / "data", readonly=readonly)
    am = AlertmanagerProvider("am", {"api_url": url, "environment_labels": ["env"]}, context)
    session.providers["am"] = am
    return session


def me(session: Session) -> Identity:
    return Identity(session.config.members[0], "tester")


def strip_text(app: QuorumApp) -> str:
    strip = app.main.query_one(AlertsStrip)
    return strip.render().plain if strip.display else ""


async def test_the_strip_is_hidden_until_an_alert_fires_then_names_the_worst_first(
    alertmanager: Alertmanager, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    session = session_with_alerts(tmp_path, alertmanager.url)
    app = QuorumApp(session, identity=me(session), poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.services.table
        await settle(pilot, lambda: ROW in table.keys and app.hub.states["am"].last_ok)
        # Other tests' alerts may still fire on this Alertmanager; none names `tag`.
        assert tag not in strip_text(app)
        alertmanager.fire(f"Disk{tag}", "warning", service="worker")
        alertmanager.fire(
            f"Errors{tag}", "critical", "5xx [b]up[/b]", service="api", env="production"
        )
        await settle(
            pilot, lambda: f"Errors{tag}" in strip_text(app) and f"Disk{tag}" in strip_text(app)
        )
        text = strip_text(app)
        assert "alerts firing" in text
        assert text.index(f"Errors{tag}") < text.index(f"Disk{tag}")  # critical before warning
        assert "api@production" in text
        # The row of api in production says so; api in staging is not named.
        await settle(pilot, lambda: table.cells(ROW)[7] == "🔔alert")
        assert f"Errors{tag}" in table.cells(ROW)[-1]
        assert f"Errors{tag}" not in table.cells("sim-k8s/api/staging")[-1]
        assert any(f"Disk{tag}" in table.cells(k)[-1] for k in table.keys if "/worker/" in k)


async def test_silence_from_the_console_is_reported_silenced_by_alertmanager(
    alertmanager: Alertmanager, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    fp = alertmanager.fire(f"Latency{tag}", "critical", service="api", env="production")
    session = session_with_alerts(tmp_path, alertmanager.url)
    app = QuorumApp(session, identity=me(session), poll_interval=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: f"Latency{tag}" in strip_text(app))
        await pilot.press("colon", *"silence", "enter")
        await settle(pilot, lambda: isinstance(app.screen, PickScreen))
        picker = app.screen
        index = [o[0] for o in picker.options].index(f"am:{fp}")
        for _ in range(index):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, FormScreen))
        form = app.screen
        duration = form.query_one("#f-duration", Input)
        assert duration.value == "2h"
        duration.value = "soon"  # refused in the form, which keeps what was typed
        await pilot.press("enter")
        await pilot.press(*"paged twice", "enter")
        await settle(
            pilot, lambda: "invalid duration" in str(form.query_one("#form-error").render())
        )
        assert isinstance(app.screen, FormScreen)
        duration.value = "45m"
        duration.focus()
        await pilot.press("enter")
        await settle(pilot, lambda: form.query_one("#f-comment", Input).has_focus)
        await pilot.press("enter")
        await settle(pilot, lambda: not isinstance(app.screen, FormScreen))
        silenced = alertmanager.alert(f"Latency{tag}", service="api")
        assert silenced["status"]["state"] == "suppressed"
        (silence_id,) = silenced["status"]["silencedBy"]
        made = alertmanager.silence(silence_id)
        assert made["comment"] == "paged twice" and made["createdBy"] == me(session).name
        await settle(pilot, lambda: f"Latency{tag}" not in strip_text(app))
        records = await app.actions.fetch_audit()
        assert any(r.action == "silence" and r.revision == silence_id for r in records)


async def test_a_read_only_console_refuses_silence_and_sends_nothing(
    alertmanager: Alertmanager, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    alertmanager.fire(f"Cpu{tag}", service="auth")
    before = len(alertmanager.silences())
    session = session_with_alerts(tmp_path, alertmanager.url, readonly=True)
    app = QuorumApp(session, identity=me(session), poll_interval=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: f"Cpu{tag}" in strip_text(app))
        await pilot.press("colon", *"silence", "enter")
        await settle(pilot, lambda: any("read-only" in line for line in app.notices))
        assert not isinstance(app.screen, PickScreen)
        assert any("firing" in line for line in screen_lines(app))  # the strip stays
    assert len(alertmanager.silences()) == before
