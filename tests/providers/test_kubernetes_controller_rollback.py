"""StatefulSets and DaemonSets: history from ControllerRevisions, undo with kubectl's rules."""

from __future__ import annotations

import asyncio
from pathlib import Path

import kmock
import pytest

from console.domain.model import TargetRef
from providers.base import Capability, Refused
from tests.k8s_fixtures import (
    Cluster,
    allow_everything,
    cluster_fixture,  # noqa: F401 - the `cluster` fixture
    controller_revision,
    daemonset,
    pod_template,
    provider,
    statefulset,
)

DB = TargetRef("k8s", "db", "production", "statefulset/db")
AGENT = TargetRef("k8s", "agent", "production", "daemonset/agent")
IMAGES = ("registry.example/db:14.1", "registry.example/db:14.2", "registry.example/db:15.0")


def act(cluster: Cluster, tmp_path: Path, method: str, *args):
    async def go():
        made = provider(cluster, tmp_path)
        try:
            return await getattr(made, method)(*args)
        finally:
            await made.close()

    return asyncio.run(go())


def seeded(cluster: Cluster, make=statefulset, name: str = "db") -> list[dict]:
    """Three revisions; the object runs the third, whose template has an extra annotation."""
    templates = [pod_template(name, image) for image in IMAGES]
    templates[2]["metadata"]["annotations"] = {"team/extra": "yes"}
    obj = make(name, "production", IMAGES[2])
    obj["spec"]["template"] = templates[2]
    records = [controller_revision(obj, n + 1, t) for n, t in enumerate(templates)]
    cluster.add(obj, *records)
    return templates


def image(cluster: Cluster, kind: str, name: str) -> str:
    return cluster.get(kind, "production", name)["spec"]["template"]["spec"]["containers"][0][
        "image"
    ]


def test_history_is_the_controller_revisions_newest_first(cluster: Cluster, tmp_path) -> None:
    seeded(cluster)
    # A revision of another StatefulSet with matching labels is not db's history.
    stranger = statefulset("db-copy", "production", IMAGES[0])
    stranger["spec"]["selector"] = {"matchLabels": {"app": "db"}}
    cluster.add(controller_revision(stranger, 9, stranger["spec"]["template"]))
    revisions = act(cluster, tmp_path, "revisions", DB)
    assert [r.id for r in revisions] == ["3", "2", "1"]
    assert revisions[0].current and not revisions[1].current
    assert revisions[1].description == IMAGES[1]


def test_undo_restores_the_previous_template_exactly(cluster: Cluster, tmp_path) -> None:
    templates = seeded(cluster)
    assert act(cluster, tmp_path, "rollback", DB) == "statefulset.apps/db rolled back"
    after = cluster.get("statefulset", "production", "db")
    # The whole template is the second revision's: the annotation only the third had is gone.
    assert after["spec"]["template"] == templates[1]
    assert "$patch" not in after["spec"]["template"]


def test_undo_to_a_chosen_revision_and_the_current_one(cluster: Cluster, tmp_path) -> None:
    seeded(cluster, daemonset, "agent")
    assert act(cluster, tmp_path, "rollback", AGENT, "1") == "daemonset.apps/agent rolled back"
    assert image(cluster, "daemonset", "agent") == IMAGES[0]
    before = cluster.get("daemonset", "production", "agent")
    message = act(cluster, tmp_path, "rollback", AGENT, "1")
    assert message == "skipped rollback (current template already matches revision 1)"
    assert cluster.get("daemonset", "production", "agent") == before


def test_undo_errors_say_what_kubectl_says(cluster: Cluster, tmp_path: Path) -> None:
    seeded(cluster)
    with pytest.raises(Refused, match=r"unable to find specified revision 7 in history"):
        act(cluster, tmp_path, "rollback", DB, "7")
    lonely = statefulset("cache", "production", "registry.example/cache:1")
    cluster.add(lonely, controller_revision(lonely, 1, lonely["spec"]["template"]))
    cache = TargetRef("k8s", "cache", "production", "statefulset/cache")
    with pytest.raises(Refused, match=r"unable to find specified revision 0 in history"):
        act(cluster, tmp_path, "rollback", cache)


def test_rollback_is_offered_on_a_statefulset_the_cluster_allows(cluster, tmp_path) -> None:
    reviews = kmock.resource("authorization.k8s.io", "v1", "selfsubjectaccessreviews")
    cluster.react(reviews, allow_everything(cluster))
    seeded(cluster)
    assert act(cluster, tmp_path, "denied", DB, Capability.ROLLBACK) is None
