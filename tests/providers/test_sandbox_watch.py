"""The sandbox's monitoring (sim-watch): health rows of the production services and the
alerts the simulated incident fires, in step with the platforms' own rows; a rollback
that ends the incident ends its alert, and silences are kept in the world's file."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.config.provider_settings import setting_problems
from console.domain.alerts import firing
from console.domain.model import ERROR_RATE, RolloutStatus, TargetRef
from console.engine.session import open_session
from providers.base import Capability, ProviderContext
from providers.sandbox import PAUSED_AT, SandboxProvider, SandboxWatchProvider
from tests.providers.test_sandbox_world import Clock

WEB = TargetRef("sim-k8s", "web", "production", "deployment/web")


def world(tmp_path: Path, clock: Clock) -> tuple[SandboxProvider, SandboxWatchProvider]:
    context = ProviderContext(data_dir=tmp_path)
    k8s = SandboxProvider("sim-k8s", {"platform": "kubernetes"}, context, clock=clock)
    return k8s, SandboxWatchProvider("sim-watch", {}, context, clock=clock)


async def test_the_incident_fires_an_alert_and_fails_the_readiness_of_its_service(
    tmp_path: Path,
) -> None:
    _, watch = world(tmp_path, Clock(PAUSED_AT))  # web in production at its worst
    snap = await watch.snapshot()
    rows = {t.ref.service: t for t in snap.targets}
    assert set(rows) == {"api", "web", "auth", "billing", "search"}  # HTTP services
    web = rows["web"]
    assert web.status is RolloutStatus.DEGRADED
    assert web.message.startswith("not ready: HTTP 503")
    assert (web.ready, web.desired) == (1, 2)
    assert web.metrics[ERROR_RATE] > 5
    assert all(rows[s].status is RolloutStatus.READY for s in ("api", "auth", "billing"))
    (alert,) = firing(snap.alerts)
    assert (alert.name, alert.severity, alert.service, alert.environment) == (
        "HighErrorRate", "critical", "web", "production")  # fmt: skip
    assert alert.summary.endswith("% of requests fail")


async def test_a_rollback_on_the_platform_ends_the_incident_and_its_alert(
    tmp_path: Path,
) -> None:
    clock = Clock(PAUSED_AT)
    k8s, watch = world(tmp_path, clock)
    revisions = await k8s.revisions(WEB)
    await k8s.rollback(WEB, to=revisions[1].id)
    clock.advance(60)  # the rollout is done well within a minute
    snap = await watch.snapshot()
    assert firing(snap.alerts) == []
    web = next(t for t in snap.targets if t.ref.service == "web")
    assert (web.status, web.revision) == (RolloutStatus.READY, revisions[1].id)


async def test_a_silence_holds_across_instances_until_it_is_expired(tmp_path: Path) -> None:
    clock = Clock(PAUSED_AT)
    _, watch = world(tmp_path, clock)
    (alert,) = firing((await watch.snapshot()).alerts)
    silence = await watch.silence(alert, PAUSED_AT + timedelta(hours=2), "on it", "dana")
    _, other = world(tmp_path, clock)  # another process, the same world's file
    (held,) = (await other.snapshot()).alerts
    assert (held.state, held.silenced_by) == ("suppressed", (silence,))
    assert firing([held]) == []
    assert await other.expire(silence) == f"silence {silence} expired"
    assert [a.name for a in firing((await watch.snapshot()).alerts)] == ["HighErrorRate"]
    clock.at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # before the incident: nothing fires
    assert (await watch.snapshot()).alerts == ()


def test_the_built_in_sandbox_has_its_monitoring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUORUM_DATA_DIR", str(tmp_path))
    session = open_session(argparse.Namespace(config=None, sandbox=True, readonly=False))
    try:
        watch = session.providers["sim-watch"]
        assert watch.can(Capability.ALERTS) and watch.can(Capability.SILENCE)
    finally:
        asyncio.run(session.close())
    problems = setting_problems(SandboxWatchProvider, {"sources": {"mainframe": "x"}})
    assert problems == [
        ("sources", "unknown platform 'mainframe' (known: kubernetes, ecs, static)")
    ]
