"""Rollout status of Deployments, StatefulSets and DaemonSets, read over real HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

from console.domain.model import RolloutStatus
from tests.k8s_fixtures import (
    Cluster,
    cluster_fixture,  # noqa: F401 - the `cluster` fixture
    daemonset,
    provider,
    service,
    statefulset,
)


def snapshot_of(cluster: Cluster, tmp_path: Path, **settings) -> dict:
    async def go():
        made = provider(cluster, tmp_path, **settings)
        try:
            return await made.snapshot()
        finally:
            await made.close()

    snap = asyncio.run(go())
    return {(t.ref.service, t.ref.environment): t for t in snap.targets}


def test_status_of_each_kind_of_trouble(cluster: Cluster, tmp_path: Path) -> None:
    reg = "registry.example"
    cluster.add(
        *service("web", "production", f"{reg}/web:1.4.2", history=(f"{reg}/web:1.4.1",)),
        *service(
            "api", "production", f"{reg}/api:2.0",
            pods=2, waiting="CrashLoopBackOff", restarts=5, ready=1,
        ),
        *service(
            "worker", "production", f"{reg}/worker:7",
            pods=1, waiting="ImagePullBackOff", ready=0, replicas=1,
        ),
        *service(
            "batch", "production", f"{reg}/batch:3",
            pods=2, replicas=3, updated=1, ready=2, progressing=("True", "ReplicaSetUpdated"),
        ),
        *service(
            "search", "production", f"{reg}/search:9",
            pods=0, updated=1, ready=2, progressing=("False", "ProgressDeadlineExceeded"),
        ),
        *service("admin", "production", f"{reg}/admin:5", pods=1, replicas=1, paused=True),
        *service(
            "web", "staging", f"{reg}/web:1.5.0-rc1",
            pods=1, replicas=1, generation=3, observed=2,
        ),
    )  # fmt: skip
    targets = snapshot_of(cluster, tmp_path)

    web = targets["web", "production"]
    assert web.status is RolloutStatus.READY
    assert (web.revision, web.ready, web.desired, web.message) == ("1.4.2", 3, 3, "")
    assert web.ref.target == "deployment/web" and web.ref.provider == "k8s"

    api = targets["api", "production"]
    assert api.status is RolloutStatus.DEGRADED
    assert api.message.startswith("CrashLoopBackOff: api-")
    assert api.message.endswith("(5 restarts) +1 more")

    worker = targets["worker", "production"]
    assert worker.status is RolloutStatus.DEGRADED
    assert (
        worker.message.startswith("ImagePullBackOff: worker-") and "(0 restarts)" in worker.message
    )

    batch = targets["batch", "production"]
    assert batch.status is RolloutStatus.PROGRESSING
    assert batch.message == "1 of 3 new replicas updated"

    search = targets["search", "production"]
    assert search.status is RolloutStatus.FAILED
    assert search.message == "progress deadline exceeded"

    assert targets["admin", "production"].status is RolloutStatus.PAUSED
    assert targets["admin", "production"].message == "rollout paused"

    staged = targets["web", "staging"]
    assert staged.status is RolloutStatus.PROGRESSING
    assert staged.revision == "1.5.0-rc1"
    assert "observed" in staged.message


def test_statefulsets_and_daemonsets_are_targets_too(cluster: Cluster, tmp_path: Path) -> None:
    cluster.add(
        statefulset("postgres", "production", "postgres:16.4", replicas=2, ready=1),
        daemonset("node-agent", "production", "agent:0.9", nodes=4),
    )
    targets = snapshot_of(cluster, tmp_path)
    db = targets["postgres", "production"]
    assert (db.ref.target, db.status, db.ready, db.desired) == (
        "statefulset/postgres",
        RolloutStatus.DEGRADED,
        1,
        2,
    )
    assert db.message == "1/2 ready" and db.revision == "16.4"
    agent = targets["node-agent", "production"]
    assert (agent.ref.target, agent.status, agent.desired) == (
        "daemonset/node-agent",
        RolloutStatus.READY,
        4,
    )


def test_namespaces_outside_the_environments_are_not_shown(
    cluster: Cluster, tmp_path: Path
) -> None:
    cluster.add(
        *service("web", "production", "web:1", pods=1),
        *service("web", "sandbox-team-x", "web:2", pods=1),
    )
    assert set(snapshot_of(cluster, tmp_path)) == {("web", "production")}
    # Without an environments table every namespace is an environment of its own name.
    everything = snapshot_of(cluster, tmp_path, environments={})
    assert set(everything) == {("web", "production"), ("web", "sandbox-team-x")}


def test_services_by_custom_label_or_explicit_mapping(cluster: Cluster, tmp_path: Path) -> None:
    objs = service("frontend-v2", "production", "web:3", pods=1)
    objs[0]["metadata"]["labels"]["team.example/service"] = "storefront"
    cluster.add(*objs, *service("billing-api", "production", "billing:1", pods=1))
    targets = snapshot_of(
        cluster,
        tmp_path,
        label="team.example/service",
        services={"deployment/billing-api": "billing"},
    )
    assert set(targets) == {("storefront", "production"), ("billing", "production")}
