"""A namespace-scoped role that may list Deployments but not DaemonSets or StatefulSets:
what may be seen is shown, and the hidden kinds are named once with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import kmock

from console.cli.main import main
from tests.k8s_fixtures import (
    Cluster,
    cluster_fixture,  # noqa: F401 - the `cluster` fixture
    daemonset,
    service,
    statefulset,
)
from tests.providers.test_kubernetes_cli import write_config

FORBIDDEN = (
    'daemonsets.apps is forbidden: User "system:serviceaccount:ops:viewer" cannot list '
    'resource "daemonsets" in API group "apps" in the namespace "{namespace}"'
)


def forbid_daemonsets(cluster: Cluster) -> None:
    def reply(request: kmock.Request) -> kmock.KubernetesError:
        namespace = request.namespace or ""
        return kmock.KubernetesError(
            status=403, reason="Forbidden", message=FORBIDDEN.format(namespace=namespace)
        )

    cluster.react(kmock.resource("apps", "v1", "daemonsets"), reply)


def test_a_kind_the_role_may_not_list_is_hidden_not_fatal(
    cluster: Cluster, tmp_path: Path, capsys
) -> None:
    forbid_daemonsets(cluster)
    cluster.add(
        *service("web", "production", "registry.example/web:1.2"),
        statefulset("postgres", "production", "postgres:16.4", replicas=2, ready=2),
        daemonset("node-agent", "production", "agent:0.9", nodes=4),
    )
    config = write_config(cluster, tmp_path)
    assert main(["status", "--json", "--config", str(config)]) == 0
    captured = capsys.readouterr()
    rows = {(r["service"], r["environment"]) for r in json.loads(captured.out)}
    assert rows == {("web", "production"), ("postgres", "production")}
    assert captured.err == (
        "quorum: provider main-cluster: not shown: "
        "daemonsets/production (forbidden: the credentials may not list it); "
        "daemonsets/staging (forbidden: the credentials may not list it)\n"
    )


def test_a_kind_the_server_does_not_serve_is_hidden_not_fatal(
    cluster: Cluster, tmp_path: Path, capsys
) -> None:
    """A 404 on one kind's list (an API server without it, or a proxy that only passes
    some paths): the other kinds are shown and this one named once."""

    def missing(request: kmock.Request) -> kmock.KubernetesError:
        return kmock.KubernetesError(status=404, reason="NotFound", message="the server "
                                     "could not find the requested resource")  # fmt: skip

    cluster.react(kmock.resource("apps", "v1", "statefulsets"), missing)
    cluster.add(
        *service("web", "production", "registry.example/web:1.2"),
        statefulset("postgres", "production", "postgres:16.4", replicas=2, ready=2),
        daemonset("node-agent", "production", "agent:0.9", nodes=4),
    )
    config = write_config(cluster, tmp_path)
    assert main(["status", "--json", "--config", str(config)]) == 0
    captured = capsys.readouterr()
    rows = {(r["service"], r["environment"]) for r in json.loads(captured.out)}
    assert rows == {("web", "production"), ("node-agent", "production")}
    assert captured.err == (
        "quorum: provider main-cluster: not shown: "
        "statefulsets/production (not found: the server does not serve it here); "
        "statefulsets/staging (not found: the server does not serve it here)\n"
    )
