"""Deploy, rollback, restart, scale and pause against the emulator, with kubectl's rules."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import kmock
import pytest

from console.domain.model import TargetRef
from providers.base import Capability, Refused
from tests.k8s_fixtures import (
    LABEL,
    Cluster,
    cluster_fixture,  # noqa: F401 - the `cluster` fixture
    provider,
    replicaset,
    service,
)

WEB = TargetRef("k8s", "web", "production", "deployment/web")
IMAGES = ("registry.example/web:1.0", "registry.example/web:1.1")


def act(cluster: Cluster, tmp_path: Path, method: str, *args, **settings):
    async def go():
        made = provider(cluster, tmp_path, **settings)
        try:
            return await getattr(made, method)(*args)
        finally:
            await made.close()

    return asyncio.run(go())


def seeded(cluster: Cluster, **options) -> dict:
    objs = service("web", "production", "registry.example/web:1.2", history=IMAGES, **options)
    cluster.add(*objs)
    return {o["metadata"]["name"]: o for o in objs}


def without_hash(template: dict) -> dict:
    labels = dict(template["metadata"]["labels"])
    labels.pop("pod-template-hash", None)
    return {**template, "metadata": {**template["metadata"], "labels": labels}}


def test_rollback_copies_the_previous_replicaset_template(cluster: Cluster, tmp_path) -> None:
    objs = seeded(cluster)
    # The current template carries an annotation the old one lacks: it must go.
    cluster.patch(
        "deployment", "production", "web",
        {"spec": {"template": {"metadata": {"annotations": {"team/extra": "yes"}}}}},
    )  # fmt: skip
    previous = next(
        o for o in objs.values()
        if o["kind"] == "ReplicaSet"
        and o["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    )  # fmt: skip
    message = act(cluster, tmp_path, "rollback", WEB)
    assert message == "deployment.apps/web rolled back"
    after = cluster.get("deployment", "production", "web")
    assert after["spec"]["template"] == without_hash(previous["spec"]["template"])
    assert "pod-template-hash" not in after["spec"]["template"]["metadata"]["labels"]
    assert after["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGES[1]
    annotations = after["metadata"]["annotations"]
    assert annotations["kubernetes.io/change-cause"] == f"deploy {IMAGES[1]}"
    # The Deployment keeps its own revision; the ReplicaSet's sizing annotations are not copied.
    assert annotations["deployment.kubernetes.io/revision"] == "3"
    assert "deployment.kubernetes.io/desired-replicas" not in annotations


def test_rollback_to_a_chosen_revision(cluster: Cluster, tmp_path: Path) -> None:
    seeded(cluster)
    assert act(cluster, tmp_path, "rollback", WEB, "1") == "deployment.apps/web rolled back"
    after = cluster.get("deployment", "production", "web")
    assert after["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGES[0]


def test_rollback_to_the_current_revision_is_skipped(cluster: Cluster, tmp_path: Path) -> None:
    seeded(cluster)
    before = cluster.get("deployment", "production", "web")
    message = act(cluster, tmp_path, "rollback", WEB, "3")
    assert message == "skipped rollback (current template already matches revision 3)"
    assert cluster.get("deployment", "production", "web") == before


def test_rollback_errors_say_what_kubectl_says(cluster: Cluster, tmp_path: Path) -> None:
    seeded(cluster)
    with pytest.raises(Refused, match=r"unable to find specified revision 7 in history"):
        act(cluster, tmp_path, "rollback", WEB, "7")
    lonely = TargetRef("k8s", "solo", "production", "deployment/solo")
    cluster.add(*service("solo", "production", "registry.example/solo:1", pods=1))
    with pytest.raises(Refused, match=r'no rollout history found for deployment "solo"'):
        act(cluster, tmp_path, "rollback", lonely)


def test_a_paused_deployment_is_not_rolled_back(cluster: Cluster, tmp_path: Path) -> None:
    seeded(cluster, paused=True)
    with pytest.raises(Refused, match="cannot rollback a paused deployment; resume it first"):
        act(cluster, tmp_path, "rollback", WEB)


def test_replicasets_of_other_deployments_are_not_history(cluster: Cluster, tmp_path) -> None:
    objs = seeded(cluster)
    # Another Deployment whose ReplicaSet matches web's labels (a copy-paste accident).
    other = next(o for o in objs.values() if o["kind"] == "Deployment")
    stranger = dict(other, metadata={**other["metadata"], "name": "web-canary", "uid": "u-x"})
    impostor = replicaset(stranger, 9, other["spec"]["template"])
    impostor["metadata"]["labels"][LABEL] = "web"
    cluster.add(impostor)
    revisions = act(cluster, tmp_path, "revisions", WEB)
    assert [r.id for r in revisions] == ["3", "2", "1"]
    assert revisions[0].current and not revisions[1].current
    assert revisions[1].description == f"{IMAGES[1]} — deploy {IMAGES[1]}"


def test_restart_sets_restarted_at(cluster: Cluster, tmp_path: Path) -> None:
    seeded(cluster)
    before = datetime.now(UTC).replace(microsecond=0)
    assert act(cluster, tmp_path, "restart", WEB) == "deployment.apps/web restarted"
    after = cluster.get("deployment", "production", "web")
    stamp = after["spec"]["template"]["metadata"]["annotations"][
        "kubectl.kubernetes.io/restartedAt"
    ]
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= moment <= datetime.now(UTC) + timedelta(seconds=1)


def test_restart_of_a_paused_deployment_is_refused(cluster: Cluster, tmp_path: Path) -> None:
    seeded(cluster, paused=True)
    with pytest.raises(Refused, match="run rollout resume first"):
        act(cluster, tmp_path, "restart", WEB)


def test_scale_sets_replicas_through_the_scale_subresource(cluster: Cluster, tmp_path) -> None:
    seeded(cluster)
    assert act(cluster, tmp_path, "scale", WEB, 5) == "deployment.apps/web scaled to 5"
    assert cluster.get("deployment", "production", "web")["spec"]["replicas"] == 5
    scales = cluster.count(kmock.method.PATCH, kmock.subresource("scale"))
    assert scales == 1


def test_deploy_sets_the_image_tag_of_the_main_container(cluster: Cluster, tmp_path) -> None:
    objs = service("web", "production", "registry.example/web:1.2", pods=1)
    sidecar = {"name": "proxy", "image": "envoy:1.30"}
    objs[0]["spec"]["template"]["spec"]["containers"].append(sidecar)
    cluster.add(*objs)
    message = act(cluster, tmp_path, "deploy", WEB, "1.3")
    assert message == "deployment.apps/web image updated: web=registry.example/web:1.3"
    after = cluster.get("deployment", "production", "web")
    containers = after["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [
        ("web", "registry.example/web:1.3"),
        ("proxy", "envoy:1.30"),
    ]
    # Everything else of the container is kept.
    assert containers[0]["resources"]["limits"] == {"cpu": "500m", "memory": "256Mi"}
    act(cluster, tmp_path, "deploy", WEB, "proxy=1.31")
    after = cluster.get("deployment", "production", "web")
    assert after["spec"]["template"]["spec"]["containers"][1]["image"] == "envoy:1.31"
    with pytest.raises(Refused, match="no container 'db' \\(web, proxy\\)"):
        act(cluster, tmp_path, "deploy", WEB, "db=postgres:17")
    act(cluster, tmp_path, "deploy", WEB, "mirror.example/web@sha256:" + "a" * 64)
    after = cluster.get("deployment", "production", "web")
    assert after["spec"]["template"]["spec"]["containers"][0]["image"].startswith(
        "mirror.example/web@sha256:"
    )


def test_pause_and_resume(cluster: Cluster, tmp_path: Path) -> None:
    seeded(cluster)
    act(cluster, tmp_path, "pause", WEB)
    assert cluster.get("deployment", "production", "web")["spec"]["paused"] is True
    act(cluster, tmp_path, "resume", WEB)
    assert cluster.get("deployment", "production", "web")["spec"]["paused"] is False


def test_readonly_refuses_without_calling_the_cluster(cluster: Cluster, tmp_path: Path) -> None:
    seeded(cluster)
    with pytest.raises(Refused, match="read-only"):
        act(cluster, tmp_path, "scale", WEB, 1, readonly=True)
    assert cluster.count(kmock.method.PATCH) == 0
    assert act(cluster, tmp_path, "denied", WEB, Capability.SCALE, readonly=True) == "read-only"
