"""The watch cache: changes arrive without relisting, 410 relists, outages recover."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import kmock
import pytest

from console.domain.model import RolloutStatus
from console.domain.settings import Config
from console.engine.hub import Hub
from console.engine.session import Session
from providers.base import Unreachable
from providers.kubernetes.client import interrupt
from tests.k8s_fixtures import (
    Cluster,
    cluster_fixture,  # noqa: F401 - the `cluster` fixture
    provider,
    service,
)

LISTS = (kmock.action.LIST, kmock.resource("apps", "v1", "deployments"))


async def until(check, what: str, limit: float = 15.0):
    """Wait for `check()` to be true; fail naming `what` if it never is."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            pytest.fail(f"never happened: {what}")
        await asyncio.sleep(0.05)


def web_status(made):
    async def check():
        snap = await made.snapshot()
        return {t.ref.service: t for t in snap.targets}

    return check


def test_a_change_on_the_server_reaches_the_snapshot_without_a_relist(
    cluster: Cluster, tmp_path: Path
) -> None:
    cluster.add(*service("web", "production", "registry.example/web:1.0", pods=2))

    async def go():
        made = provider(cluster, tmp_path)
        try:
            first = await made.snapshot()
            assert first.targets[0].revision == "1.0"

            async def metrics_noted():
                return made.cache.metrics_note  # the poller's first answer is a change too

            await until(metrics_noted, "the metrics poller's first answer")
            await made.snapshot()
            lists = cluster.count(*LISTS)
            changed = asyncio.create_task(made.wait_changed())
            await asyncio.sleep(0.1)
            assert not changed.done()
            cluster.patch(
                "deployment", "production", "web",
                {"spec": {"template": {"spec": {"containers": [
                    {"name": "web", "image": "registry.example/web:2.0"}
                ]}}}},
            )  # fmt: skip
            await asyncio.wait_for(changed, 10)

            async def moved():
                snap = await made.snapshot()
                return snap.targets[0].revision == "2.0"

            await until(moved, "the new image in the snapshot")
            assert cluster.count(*LISTS) == lists
        finally:
            await made.close()

    asyncio.run(go())


def test_pod_events_update_the_target_message(cluster: Cluster, tmp_path: Path) -> None:
    objs = service("web", "production", "registry.example/web:1.0", pods=2)
    cluster.add(*objs)
    pod = objs[-1]

    async def go():
        made = provider(cluster, tmp_path)
        try:
            assert (await made.snapshot()).targets[0].status is RolloutStatus.READY
            waiting = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}}
            status = dict(pod["status"])
            status["containerStatuses"] = [
                dict(status["containerStatuses"][0], state=waiting, ready=False, restartCount=4)
            ]
            cluster.patch("pod", "production", pod["metadata"]["name"], {"status": status})

            async def crashing():
                snap = await made.snapshot()
                target = snap.targets[0]
                return target.status is RolloutStatus.DEGRADED and target

            target = await until(crashing, "the crash loop in the snapshot")
            assert target.message == f"CrashLoopBackOff: {pod['metadata']['name']} (4 restarts)"
        finally:
            await made.close()

    asyncio.run(go())


def test_410_gone_makes_the_reflector_relist(cluster: Cluster, tmp_path: Path) -> None:
    cluster.add(*service("web", "production", "registry.example/web:1.0", pods=1))
    expired = {"armed": False}

    def gone(request):
        if request.namespace != "production" or not expired["armed"]:
            raise NotImplementedError  # the emulator's own watch
        expired["armed"] = False
        status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 410,
                  "reason": "Expired", "message": "too old resource version: 1 (900)"}  # fmt: skip
        return json.dumps({"type": "ERROR", "object": status}).encode() + b"\n"

    cluster.react((kmock.action.WATCH, kmock.resource("apps", "v1", "deployments")), gone)

    async def go():
        made = provider(cluster, tmp_path)
        try:
            await made.snapshot()
            reflector = next(r for r in made.reflectors if r.name == "deployments/production")
            assert reflector.lists == 1

            async def watching():
                return reflector._response is not None  # the list is done before the watch opens

            await until(watching, "the watch to open")
            # While nothing watches, the object changes; then the watch expires.
            cluster.change_unseen("deployment", "production", "web", {"spec": {"replicas": 7}})
            expired["armed"] = True
            # Drop the live watch so the client reconnects and meets the 410.
            interrupt(reflector._response)

            async def relisted():
                snap = await made.snapshot()
                return reflector.lists >= 2 and snap.targets[0].desired == 7

            await until(relisted, "a relist after 410")
        finally:
            await made.close()

    asyncio.run(go())


def test_api_server_outage_is_unreachable_then_recovers(cluster: Cluster, tmp_path) -> None:
    cluster.add(*service("web", "production", "registry.example/web:1.0", pods=1))

    async def go():
        made = provider(cluster, tmp_path)
        try:
            await made.snapshot()
            cluster.stop()

            async def down():
                try:
                    await made.snapshot()
                except Unreachable as exc:
                    return exc
                return None

            error = await until(down, "snapshot() raising Unreachable")
            assert str(error).startswith("unreachable: ")
            assert "s3cr3t-token" not in str(error)
            cluster.start()

            async def back():
                try:
                    return await made.snapshot()
                except Unreachable:
                    return None

            snap = await until(back, "recovery after the API server came back", limit=30)
            assert snap.targets[0].ref.service == "web"
        finally:
            await made.close()

    asyncio.run(go())


def test_the_hub_follows_watch_events(cluster: Cluster, tmp_path: Path) -> None:
    cluster.add(*service("web", "production", "registry.example/web:1.0", pods=1))

    async def go():
        made = provider(cluster, tmp_path)
        session = Session(config=Config(), data_dir=tmp_path, readonly=False)
        session.providers["k8s"] = made
        updates = []
        # A long interval: only a watch event can make the hub poll again in time.
        hub = Hub(session, interval=3600, on_update=updates.append)
        hub.start()
        try:

            async def polled():
                return updates and updates[-1].snapshot is not None

            await until(polled, "the first poll")
            cluster.patch("deployment", "production", "web", {"spec": {"replicas": 4}})

            async def followed():
                rows = hub.rows()
                return rows and rows[0].target.desired == 4

            await until(followed, "the hub row showing 4 replicas")
        finally:
            await hub.stop()
            await made.close()

    asyncio.run(go())


def test_the_hub_marks_an_outage_stale_and_recovers(cluster: Cluster, tmp_path: Path) -> None:
    cluster.add(*service("web", "production", "registry.example/web:1.0", pods=1))

    async def go():
        made = provider(cluster, tmp_path)
        session = Session(config=Config(), data_dir=tmp_path, readonly=False)
        session.providers["k8s"] = made
        polls = []
        # Long interval and backoff: every poll below is woken by the watch threads.
        hub = Hub(session, interval=3600, max_backoff=3600, on_update=polls.append)
        hub.start()
        try:

            async def state(check):
                async def probe():
                    current = hub.states["k8s"]
                    return check(current) and current

                return probe

            await until(await state(lambda s: s.snapshot is not None), "the first poll")
            cluster.stop()
            stale = await until(await state(lambda s: s.stale), "the hub marking it stale")
            assert stale.error.startswith("unreachable: ")
            assert stale.snapshot.targets[0].ref.service == "web"  # the last good one stays
            await asyncio.sleep(0.3)  # every stream has noticed by now
            failures_then = len(polls)
            await asyncio.sleep(1.0)
            # Reconnect attempts that fail the same way wake nobody: no busy loop.
            assert len(polls) - failures_then <= 1
            cluster.start()
            await until(await state(lambda s: not s.stale), "recovery", limit=30)
        finally:
            await hub.stop()
            await made.close()

    asyncio.run(go())


def test_two_contexts_at_once(cluster: Cluster, tmp_path: Path) -> None:
    cluster.add(
        *service("web", "production", "registry.example/web:1.0", pods=1),
        *service("web", "staging", "registry.example/web:1.1", pods=1),
    )
    cluster.kubeconfig(tmp_path / "kubeconfig", contexts=("prod", "stage"))

    async def go():
        prod = provider(cluster, tmp_path, name="prod-cluster", context="prod",
                        environments={"production": "production"})  # fmt: skip
        stage = provider(cluster, tmp_path, name="stage-cluster", context="stage",
                         environments={"staging": "staging"})  # fmt: skip
        try:
            snaps = await asyncio.gather(prod.snapshot(), stage.snapshot())
            return [(s.provider, [(t.ref.key, t.revision) for t in s.targets]) for s in snaps]
        finally:
            await prod.close()
            await stage.close()

    assert asyncio.run(go()) == [
        ("prod-cluster", [("prod-cluster/web/production", "1.0")]),
        ("stage-cluster", [("stage-cluster/web/staging", "1.1")]),
    ]
