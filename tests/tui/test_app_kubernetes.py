"""A change made on a Kubernetes API server reaches the Services pane by watch alone."""

from __future__ import annotations

from pathlib import Path

import kmock

from console.app import QuorumApp
from tests.app_support import make_session, settle
from tests.k8s_fixtures import Cluster, cluster_fixture, provider, service

__all__ = ["cluster_fixture"]  # the `cluster` fixture, used below by name

DEPLOYMENT_LISTS = (kmock.action.LIST, kmock.resource("apps", "v1", "deployments"))
ROW = "k8s/web/production"


async def test_a_server_side_change_shows_in_the_services_pane_without_a_relist(
    cluster: Cluster, tmp_path: Path
) -> None:
    cluster.add(*service("web", "production", "registry.example/web:1.0", pods=2))
    kube = provider(cluster, tmp_path)
    # An hour between polls: only the watch can bring the change in time.
    app = QuorumApp(make_session(tmp_path / "data", [kube]), poll_interval=3600)
    async with app.run_test(size=(120, 36)) as pilot:
        table = app.services.table
        await settle(pilot, lambda: ROW in table.keys and table.cells(ROW)[3] == "1.0")
        lists = cluster.count(*DEPLOYMENT_LISTS)

        cluster.patch(
            "deployment", "production", "web",
            {"spec": {"template": {"spec": {"containers": [
                {"name": "web", "image": "registry.example/web:2.0"}
            ]}}}},
        )  # fmt: skip

        await settle(pilot, lambda: table.cells(ROW)[3] == "2.0", tries=750)
        assert cluster.count(*DEPLOYMENT_LISTS) == lists  # the watch carried it, no relist
