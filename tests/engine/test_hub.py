"""The hub keeps healthy providers live beside broken ones, and broken ones recover."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from console.domain.model import RolloutStatus, Snapshot, Target, TargetRef, utcnow
from console.domain.settings import Config
from console.engine.hub import Hub
from console.engine.session import Session
from providers.base import Provider, ProviderContext, Unreachable
from providers.registry import BrokenProvider


class Scripted(Provider):
    """A provider whose behaviour the test switches: ok, hang, raise or garbage."""

    kind = "scripted"

    def __init__(self, name: str, mode: str, tmp: Path) -> None:
        super().__init__(name, {}, ProviderContext(data_dir=tmp))
        self.mode = mode
        self.calls = 0

    async def snapshot(self) -> Snapshot:
        self.calls += 1
        if self.mode == "hang":
            await asyncio.Event().wait()
        if self.mode == "raise":
            raise Unreachable("connection refused")
        if self.mode == "garbage":
            return {"targets": "not a snapshot"}  # type: ignore[return-value]
        ref = TargetRef(self.name, "api", "production", "deployment/api")
        target = Target(ref, f"v{self.calls}", RolloutStatus.READY, 1, 1)
        return Snapshot(self.name, (target,), utcnow())


async def until(condition, what: str, limit: float = 10.0) -> None:
    """Wait for `condition()`; the limit only guards against a hang, it measures nothing."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.01)


def make_hub(tmp_path: Path, modes: dict[str, str]) -> tuple[Hub, dict[str, Scripted]]:
    providers = {name: Scripted(name, mode, tmp_path) for name, mode in modes.items()}
    session = Session(
        config=Config(),
        data_dir=tmp_path,
        readonly=False,
        providers=dict(providers),
        broken=[BrokenProvider("gone", "nosuch", "unknown provider kind 'nosuch'")],
    )
    hub = Hub(session, interval=0.02, timeout=0.2, max_backoff=0.1)
    return hub, providers


async def test_broken_providers_do_not_stop_healthy_ones_and_recover(tmp_path: Path) -> None:
    hub, p = make_hub(tmp_path, {"ok": "ok", "hang": "ok", "boom": "ok", "junk": "ok"})
    hub.start()
    try:
        await until(lambda: all(hub.states[n].snapshot for n in p), "first snapshots")
        for name in ("hang", "boom", "junk"):
            p[name].mode = {"hang": "hang", "boom": "raise", "junk": "garbage"}[name]
        await until(
            lambda: all(hub.states[n].stale for n in ("hang", "boom", "junk")), "all three stale"
        )
        before = p["ok"].calls
        await until(lambda: p["ok"].calls > before + 3, "healthy provider keeps polling")

        assert hub.states["hang"].error == "timeout: no answer in time"
        assert hub.states["boom"].error == "unreachable: connection refused"
        assert "bad response" in (hub.states["junk"].error or "")
        # The last good snapshot stays, marked stale with the error.
        rows = {r.key: r for r in hub.rows()}
        assert rows["boom/api/production"].stale
        assert rows["boom/api/production"].error == "unreachable: connection refused"
        assert not rows["ok/api/production"].stale
        assert hub.states["gone"].broken and "nosuch" in (hub.states["gone"].error or "")

        for name in ("hang", "boom", "junk"):
            p[name].mode = "ok"
        await until(
            lambda: not any(hub.states[n].stale for n in ("hang", "boom", "junk")), "recovery"
        )
        assert all(hub.states[n].failures == 0 for n in p)
    finally:
        await hub.stop()


async def test_backoff_grows_with_failures_and_is_capped(tmp_path: Path) -> None:
    hub, _ = make_hub(tmp_path, {"boom": "raise"})
    hub.interval, hub.max_backoff = 1.0, 10.0
    delays = []
    for _ in range(6):
        state = await hub.poll("boom")
        delays.append(hub.delay_after(state))
    assert delays == [2.0, 4.0, 8.0, 10.0, 10.0, 10.0]


async def test_refresh_all_polls_concurrently(tmp_path: Path) -> None:
    """Eight providers that each hang until released: a cycle must start them all at once."""
    started: list[str] = []
    release = asyncio.Event()

    class Gated(Scripted):
        async def snapshot(self) -> Snapshot:
            started.append(self.name)
            await release.wait()
            return await super().snapshot()

    providers = {f"p{i}": Gated(f"p{i}", "ok", tmp_path) for i in range(8)}
    session = Session(Config(), tmp_path, False, providers=dict(providers))
    hub = Hub(session, timeout=5)
    cycle = asyncio.create_task(hub.refresh_all())
    await until(lambda: len(started) == 8, "every provider called before any answered")
    release.set()
    states = await cycle
    assert all(s.snapshot is not None for s in states)


@pytest.mark.parametrize("manual", [True, False])
async def test_refresh_now_and_watch_wake_the_loop_early(tmp_path: Path, manual: bool) -> None:
    changed = asyncio.Event()

    class Watching(Scripted):
        async def wait_changed(self) -> None:
            await changed.wait()
            changed.clear()

    provider = Watching("w", "ok", tmp_path)
    hub = Hub(Session(Config(), tmp_path, False, providers={"w": provider}), interval=3600)
    hub.start()
    try:
        await until(lambda: provider.calls == 1, "first poll")
        if manual:
            hub.refresh_now("w")
        else:
            changed.set()
        await until(lambda: provider.calls == 2, "second poll long before the interval")
    finally:
        await hub.stop()


async def test_a_blocking_provider_does_not_stall_another_providers_refresh(
    tmp_path: Path,
) -> None:
    """A snapshot that blocks its thread (file reads, computation) runs beside the loop:
    the other provider's poll finishes while it is still blocked, and the loop stays free."""
    release = threading.Event()
    order: list[str] = []

    class Blocking(Scripted):
        blocking = True

        async def snapshot(self) -> Snapshot:
            order.append("blocking started")
            # Blocks its thread without awaiting; the bound only keeps a regression from hanging.
            release.wait(timeout=10)
            order.append("blocking answered")
            return await super().snapshot()

    class Quick(Scripted):
        async def snapshot(self) -> Snapshot:
            await until(lambda: "blocking started" in order, "the blocking snapshot started")
            order.append("quick answered")
            return await super().snapshot()

    providers = {"slow": Blocking("slow", "ok", tmp_path), "quick": Quick("quick", "ok", tmp_path)}
    hub = Hub(Session(Config(), tmp_path, False, providers=dict(providers)), timeout=20)
    cycle = asyncio.create_task(hub.refresh_all())
    await until(lambda: hub.states["quick"].snapshot is not None, "the quick provider's poll")
    assert order == ["blocking started", "quick answered"]
    release.set()
    states = {s.name: s for s in await cycle}
    assert order[-1] == "blocking answered"
    assert states["slow"].snapshot is not None and states["slow"].error is None
