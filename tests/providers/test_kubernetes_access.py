"""Access reviews, details, metrics and settings of the Kubernetes provider."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import kmock
import pytest

from console.config.provider_settings import setting_problems
from console.domain.model import CPU, MEMORY, TargetRef
from providers.base import Capability, Unsupported
from providers.kubernetes import KubernetesProvider
from tests.k8s_fixtures import (
    Cluster,
    cluster_fixture,  # noqa: F401 - the `cluster` fixture
    event,
    pod_metrics,
    provider,
    service,
)

WEB = TargetRef("k8s", "web", "production", "deployment/web")
REVIEWS = kmock.resource("authorization.k8s.io", "v1", "selfsubjectaccessreviews")


def run(cluster: Cluster, tmp_path: Path, body, **settings):
    async def go():
        made = provider(cluster, tmp_path, **settings)
        try:
            await made.snapshot()
            return await body(made)
        finally:
            await made.close()

    return asyncio.run(go())


def rbac(cluster: Cluster, allowed: set[tuple[str, str]]):
    """An authorizer: (verb, resource[/subresource]) pairs this user may do in production.

    The emulator stores every created object, reviews included, and would refuse the
    next nameless review as a duplicate; an API server keeps none, so neither do we.
    """

    def review(request):
        cluster.km.objects[REVIEWS, None, None].delete()
        attrs = request.data["spec"]["resourceAttributes"]
        what = attrs["resource"] + (f"/{attrs['subresource']}" if attrs.get("subresource") else "")
        ok = attrs["namespace"] == "production" and (attrs["verb"], what) in allowed
        status = {"allowed": ok}
        if not ok:
            status["reason"] = 'RBAC: role "viewer" does not allow this'
        return {**request.data, "status": status}

    return review


def test_denied_action_returns_the_reason(cluster: Cluster, tmp_path: Path) -> None:
    cluster.add(*service("web", "production", "registry.example/web:1.0", pods=1))
    cluster.react(REVIEWS, rbac(cluster, {("patch", "deployments")}))

    async def body(made):
        return (
            await made.denied(WEB, Capability.SCALE),
            await made.denied(WEB, Capability.RESTART),
            await made.denied(WEB, Capability.SCALE),
        )

    scale, restart, again = run(cluster, tmp_path, body)
    assert scale == (
        "not allowed to patch deployments/scale in namespace production: "
        'RBAC: role "viewer" does not allow this'
    )
    assert restart is None
    assert again == scale
    # The second question about scale came from the cache, not from the API.
    assert cluster.count(REVIEWS) == 2


def test_an_unanswerable_review_disables_rather_than_offers(cluster, tmp_path) -> None:
    cluster.add(*service("web", "production", "registry.example/web:1.0", pods=1))
    cluster.react(REVIEWS, lambda request: kmock.KubernetesError(status=500))

    async def body(made):
        return await made.denied(WEB, Capability.DEPLOY)

    reason = run(cluster, tmp_path, body)
    assert reason.startswith("could not check permissions: ")


def test_details_lists_pods_and_their_events(cluster: Cluster, tmp_path: Path) -> None:
    objs = service(
        "web", "production", "registry.example/web:1.0", pods=2,
        waiting="ImagePullBackOff", ready=0,
    )  # fmt: skip
    pod = objs[-1]
    other = service("api", "production", "registry.example/api:1.0", pods=1)
    cluster.add(
        *objs,
        *other,
        event(pod, "Failed", 'Failed to pull image "registry.example/web:1.0"', type="Warning"),
        event(objs[0], "ScalingReplicaSet", "Scaled up replica set web-abc to 2"),
        event(other[-1], "Pulled", "not about web"),
    )

    async def body(made):
        return await made.details(WEB)

    details = run(cluster, tmp_path, body)
    assert details.target.ref.service == "web"
    assert [p.reason for p in details.pods] == ["ImagePullBackOff", "ImagePullBackOff"]
    assert {p.name for p in details.pods} == {
        o["metadata"]["name"] for o in objs if o["kind"] == "Pod"
    }
    assert {(e.type, e.reason) for e in details.events} == {
        ("Warning", "Failed"),
        ("Normal", "ScalingReplicaSet"),
    }


def test_metrics_as_percent_of_limits(cluster: Cluster, tmp_path: Path) -> None:
    objs = service("web", "production", "registry.example/web:1.0", pods=2)
    pods = [o for o in objs if o["kind"] == "Pod"]
    # Limits: 500m CPU and 256Mi per pod; usage 400m+100m of 1000m, 192Mi+64Mi of 512Mi.
    cluster.add(*objs, pod_metrics(pods[0], "400m", "192Mi"), pod_metrics(pods[1], "100m", "64Mi"))

    async def body(made):
        async def ready():
            snap = await made.snapshot()
            return snap.targets[0].metrics

        for _ in range(200):
            if await ready():
                break
            await asyncio.sleep(0.05)
        return (await made.snapshot()).targets[0], await made.metrics(WEB, timedelta(hours=1))

    target, series = run(cluster, tmp_path, body)
    assert target.metrics == {CPU: 50.0, MEMORY: 50.0}
    named = {s.name: s for s in series}
    assert named[CPU].latest == 50.0 and named[MEMORY].latest == 50.0


def test_no_metrics_server_is_a_quiet_note(cluster: Cluster, tmp_path: Path) -> None:
    cluster.add(*service("web", "production", "registry.example/web:1.0", pods=1))

    async def body(made):
        for _ in range(200):
            if made.cache.metrics_note:
                break
            await asyncio.sleep(0.05)
        snap = await made.snapshot()
        with pytest.raises(Unsupported, match="no metrics-server"):
            await made.metrics(WEB, timedelta(minutes=5))
        return snap

    snap = run(cluster, tmp_path, body)
    assert snap.targets[0].metrics == {}


def test_settings_are_checked_before_connecting(tmp_path: Path) -> None:
    problems = dict(
        setting_problems(
            KubernetesProvider,
            {
                "context": "",
                "kubeconfig": str(tmp_path / "missing"),
                "in_cluster": "yes",
                "environments": {"production": 3},
                "services": {"web": "web"},
                "colour": "blue",
            },
        )
    )
    assert set(problems) == {
        "context", "kubeconfig", "in_cluster", "environments", "services", "colour",
    }  # fmt: skip
    assert "no such file" in problems["kubeconfig"]
    assert KubernetesProvider.check_settings({"in_cluster": True, "context": "prod"}) == [
        ("context", "cannot be combined with in_cluster = true")
    ]
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\n")
    assert (
        KubernetesProvider.check_settings(
            {"kubeconfig": str(kubeconfig), "context": "prod", "environments": {"prod": "p"}}
        )
        == []
    )


def test_an_unknown_context_is_one_clear_line(cluster: Cluster, tmp_path: Path) -> None:
    from providers.base import AuthError

    async def go():
        made = provider(cluster, tmp_path, context="nowhere")
        try:
            await made.snapshot()
        finally:
            await made.close()

    with pytest.raises(AuthError, match="kubeconfig: .*nowhere"):
        asyncio.run(go())


def test_the_token_never_reaches_an_error(cluster: Cluster, tmp_path: Path) -> None:
    cluster.add(*service("web", "production", "registry.example/web:1.0", pods=1))
    cluster.react(
        (kmock.method.PATCH,),
        lambda request: kmock.KubernetesError(status=403, reason="Forbidden",
                                              message="patch is forbidden"),
    )  # fmt: skip

    async def body(made):
        with pytest.raises(Exception) as info:
            await made.scale(WEB, 2)
        return info.value

    error = run(cluster, tmp_path, body)
    assert str(error) == "auth: scale deployment/web: forbidden: patch is forbidden"
    assert "s3cr3t-token" not in repr(error.__dict__) + str(error)
    seen = [r for r in cluster.km if r.headers.get("Authorization")]
    assert seen and seen[0].headers["Authorization"] == "Bearer s3cr3t-token"
