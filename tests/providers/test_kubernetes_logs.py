"""Logs of a target's pods over real HTTP: merged by time, previous container, follow."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import kmock

from console.domain.model import TargetRef
from tests.k8s_fixtures import (
    Cluster,
    at,
    cluster_fixture,  # noqa: F401 - the `cluster` fixture
    provider,
    service,
)

WEB = TargetRef("k8s", "web", "production", "deployment/web")
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LOGS = (kmock.resource("", "v1", "pods"), kmock.subresource("log"))


def seeded(cluster: Cluster) -> list[str]:
    objs = service("web", "production", "registry.example/web:1.0", pods=3)
    cluster.add(*objs)
    return [o["metadata"]["name"] for o in objs if o["kind"] == "Pod"]


def lines_for(pods: list[str]) -> dict[str, bytes]:
    """Pod i logs at seconds i, i+3, i+6...: merged, they interleave strictly."""
    out = {}
    for index, pod in enumerate(pods):
        rows = [f"{at(T0 + timedelta(seconds=index + 3 * n))} {pod} line {n}" for n in range(4)]
        out[pod] = ("\n".join(rows) + "\n").encode()
    return out


def collect(cluster: Cluster, tmp_path: Path, **options) -> list:
    async def go():
        made = provider(cluster, tmp_path)
        try:  # no snapshot first: logs() fills the pod cache itself
            return [line async for line in made.logs(WEB, **options)]
        finally:
            await made.close()

    return asyncio.run(go())


def test_logs_of_three_pods_merge_in_time_order(cluster: Cluster, tmp_path: Path) -> None:
    pods = seeded(cluster)
    text = lines_for(pods)
    seen = []

    def reply(request):
        seen.append(dict(request.params))
        return text[request.name]

    cluster.react(LOGS, reply)
    lines = collect(cluster, tmp_path)
    assert len(lines) == 12
    assert [line.ts for line in lines] == sorted(line.ts for line in lines)
    assert [line.source for line in lines[:4]] == [pods[0], pods[1], pods[2], pods[0]]
    assert lines[0].text == f"{pods[0]} line 0"
    assert lines[0].ts == T0 + timedelta(microseconds=0)
    assert all(p.get("timestamps") == "true" for p in seen)
    assert all(p.get("follow") == "false" for p in seen)
    # --tail keeps the newest lines of the merged stream.
    tailed = collect(cluster, tmp_path, tail=2)
    assert [line.text for line in tailed] == [f"{pods[1]} line 3", f"{pods[2]} line 3"]


def test_previous_container_and_container_choice(cluster: Cluster, tmp_path: Path) -> None:
    pods = seeded(cluster)

    def reply(request):
        which = "previous" if request.params.get("previous") == "true" else "current"
        container = request.params.get("container", "-")
        return f"{at(T0)} {which} {container} of {request.name}\n".encode()

    cluster.react(LOGS, reply)
    lines = collect(
        cluster, tmp_path, previous=True, container="web", since=timedelta(minutes=5), tail=50
    )
    assert sorted(line.text for line in lines) == sorted(f"previous web of {p}" for p in pods)
    asked = [r.params for r in cluster.km[LOGS]]
    assert all(p["sinceSeconds"] == "300" and p["tailLines"] == "50" for p in asked)
    current = collect(cluster, tmp_path)
    assert {line.text.split()[0] for line in current} == {"current"}


def test_follow_streams_new_lines_until_the_consumer_stops(
    cluster: Cluster, tmp_path: Path
) -> None:
    pods = seeded(cluster)

    async def live(request):
        yield f"{at(T0)} first of {request.name}\n".encode()
        for n in range(1, 1000):
            await asyncio.sleep(0.01)
            yield f"{at(T0 + timedelta(seconds=n))} {n} of {request.name}\n".encode()

    cluster.react(LOGS, live)

    async def go():
        made = provider(cluster, tmp_path)
        try:
            await made.snapshot()
            got = []
            async for line in made.logs(WEB, follow=True):
                got.append(line)
                if len(got) >= 30:
                    break
            return got
        finally:
            await made.close()

    got = asyncio.run(go())
    assert {line.text for line in got[:3]} == {f"first of {p}" for p in pods}
    assert {line.source for line in got} == set(pods)
    follows = [r for r in cluster.km[LOGS] if r.params.get("follow") == "true"]
    assert len(follows) == 3


def test_a_flood_is_capped_and_says_how_much_was_dropped(cluster: Cluster, tmp_path: Path) -> None:
    objs = service("web", "production", "registry.example/web:1.0", pods=1)
    cluster.add(*objs)
    body = b"".join(f"{at(T0)} line {n}\n".encode() for n in range(5000))

    async def flood(request):
        yield body
        await asyncio.sleep(30)

    cluster.react(LOGS, flood)

    async def go():
        made = provider(cluster, tmp_path)
        try:
            await made.snapshot()
            stream = made.logs(WEB, follow=True, max_lines=100)
            first = await anext(stream)
            await asyncio.sleep(0.5)  # the reader falls behind on purpose
            rest = []
            async for line in stream:
                rest.append(line)
                if line.text == "line 4999":
                    break
            await stream.aclose()
            return [first, *rest]
        finally:
            await made.close()

    lines = asyncio.run(go())
    notes = [line for line in lines if line.source == "quorum"]
    assert len(lines) <= 102
    assert notes and "lines dropped" in notes[0].text
    assert lines[-1].text == "line 4999"
