"""A change the cluster's RBAC forbids is refused with its reason and never attempted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from console.domain.consensus import Kind
from console.domain.errors import PolicyRefused
from console.domain.identity import Identity
from console.domain.model import TargetRef
from console.domain.settings import Config
from console.engine.actions import Actions
from console.engine.session import Session
from console.store.audit import AuditLog
from tests.k8s_fixtures import Cluster, cluster_fixture, provider, service
from tests.providers.test_kubernetes_access import REVIEWS, rbac

__all__ = ["cluster_fixture"]  # the `cluster` fixture, used below by name

WEB = TargetRef("k8s", "web", "production", "deployment/web")


def test_forbidden_rollback_is_refused_before_any_patch(cluster: Cluster, tmp_path: Path) -> None:
    cluster.add(
        *service(
            "web",
            "production",
            "registry.example/web:1.0",
            pods=1,
            history=("registry.example/web:0.9",),
        )
    )
    cluster.react(REVIEWS, rbac(cluster, {("patch", "deployments/scale")}))

    async def go() -> tuple[str | None, str | None, str]:
        kube = provider(cluster, tmp_path)
        session = Session(Config(members=("ops",)), tmp_path / "data", False, {"k8s": kube})
        actions = Actions(session, identity=Identity("ops", "ops"))
        try:
            await kube.snapshot()
            offered = (
                await actions.denied(WEB, Kind.ROLLBACK),
                await actions.denied(WEB, Kind.SCALE),
            )
            with pytest.raises(PolicyRefused) as refused:
                await actions.rollback(WEB)
            return (*offered, str(refused.value))
        finally:
            actions.close()
            await session.close()

    rollback_reason, scale_reason, message = asyncio.run(go())
    assert rollback_reason and "not allowed to patch deployments" in rollback_reason
    assert scale_reason is None
    assert message.startswith("k8s does not allow this rollback: not allowed to patch")
    template = cluster.get("deployment", "production", "web")["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == "registry.example/web:1.0"
    assert [r.outcome for r in AuditLog(tmp_path / "data" / "audit.db").tail()] == []
