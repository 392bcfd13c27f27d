"""A Kubernetes API on loopback (kmock's KubernetesEmulator) and complete objects for it.

`Cluster` serves the emulator from its own thread and event loop, so provider
tests, CLI tests (which run their own `asyncio.run`) and Textual pilot tests can
all talk to it over real HTTP. The object factories build complete objects, as
the official client's models require (a Deployment without `spec.selector` does
not deserialise), and as a real API server would return them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp.test_utils
import kmock
import pytest
import yaml

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
LABEL = "app.kubernetes.io/name"
DEPLOYMENTS = "apps/v1/deployments"
STATEFULSETS = "apps/v1/statefulsets"
DAEMONSETS = "apps/v1/daemonsets"
REPLICASETS = "apps/v1/replicasets"
CONTROLLER_REVISIONS = "apps/v1/controllerrevisions"
PODS = "v1/pods"
EVENTS = "v1/events"
POD_METRICS = "metrics.k8s.io/v1beta1/pods"
RESOURCES = {
    "deployment": DEPLOYMENTS,
    "statefulset": STATEFULSETS,
    "daemonset": DAEMONSETS,
    "replicaset": REPLICASETS,
    "controllerrevision": CONTROLLER_REVISIONS,
    "pod": PODS,
}


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _uid(*parts: str) -> str:
    digest = hashlib.sha1("/".join(parts).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def template_hash(template: dict[str, Any]) -> str:
    """A stable stand-in for the controller's pod-template-hash."""
    return hashlib.sha1(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


def pod_template(
    service: str,
    image: str,
    *,
    annotations: dict[str, str] | None = None,
    containers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    main = {
        "name": service,
        "image": image,
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "imagePullPolicy": "IfNotPresent",
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    metadata: dict[str, Any] = {"labels": {LABEL: service, "app": service}}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {
        "metadata": metadata,
        "spec": {
            "containers": [main, *(containers or [])],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler",
            "securityContext": {},
        },
    }


def deployment(
    name: str,
    namespace: str,
    image: str,
    *,
    service: str | None = None,
    replicas: int = 3,
    ready: int | None = None,
    updated: int | None = None,
    available: int | None = None,
    current: int | None = None,
    generation: int = 1,
    observed: int | None = None,
    paused: bool = False,
    progressing: tuple[str, str] = ("True", "NewReplicaSetAvailable"),
    revision: int = 1,
    template: dict[str, Any] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A complete Deployment with status and both conditions."""
    service = service or name
    ready = replicas if ready is None else ready
    updated = replicas if updated is None else updated
    available = ready if available is None else available
    current = replicas if current is None else current
    prog_status, prog_reason = progressing
    progress_message = {
        "NewReplicaSetAvailable": f'ReplicaSet "{name}" has successfully progressed.',
        "ReplicaSetUpdated": f'ReplicaSet "{name}" is progressing.',
        "ProgressDeadlineExceeded": f'ReplicaSet "{name}" has timed out progressing.',
    }.get(prog_reason, prog_reason)
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": _uid("deployment", namespace, name),
            "generation": generation,
            "resourceVersion": "1",
            "creationTimestamp": stamp(NOW - timedelta(days=3)),
            "labels": {LABEL: service},
            "annotations": {
                "deployment.kubernetes.io/revision": str(revision),
                **(annotations or {}),
            },
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {LABEL: service, "app": service}},
            "template": template or pod_template(service, image),
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
            },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": {
            "observedGeneration": generation if observed is None else observed,
            "replicas": current,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": available,
            "unavailableReplicas": max(0, replicas - available),
            "conditions": [
                {
                    "type": "Available",
                    "status": "True" if available >= replicas else "False",
                    "reason": (
                        "MinimumReplicasAvailable"
                        if available >= replicas
                        else "MinimumReplicasUnavailable"
                    ),
                    "message": "Deployment availability.",
                    "lastUpdateTime": stamp(NOW - timedelta(hours=1)),
                    "lastTransitionTime": stamp(NOW - timedelta(hours=1)),
                },
                {
                    "type": "Progressing",
                    "status": prog_status,
                    "reason": prog_reason,
                    "message": progress_message,
                    "lastUpdateTime": stamp(NOW - timedelta(minutes=10)),
                    "lastTransitionTime": stamp(NOW - timedelta(hours=1)),
                },
            ],
        },
    }
    if paused:
        obj["spec"]["paused"] = True
    return obj


def replicaset(
    dep: dict[str, Any],
    revision: int,
    template: dict[str, Any],
    *,
    change_cause: str = "",
    replicas: int = 0,
    age: timedelta = timedelta(days=1),
) -> dict[str, Any]:
    """A ReplicaSet owned by `dep` at `revision`, its template labelled with the hash."""
    name = dep["metadata"]["name"]
    namespace = dep["metadata"]["namespace"]
    hashed = template_hash(template)
    tpl = json.loads(json.dumps(template))
    tpl["metadata"].setdefault("labels", {})["pod-template-hash"] = hashed
    annotations = {
        "deployment.kubernetes.io/revision": str(revision),
        "deployment.kubernetes.io/desired-replicas": str(dep["spec"]["replicas"]),
        "deployment.kubernetes.io/max-replicas": str(dep["spec"]["replicas"] + 1),
    }
    if change_cause:
        annotations["kubernetes.io/change-cause"] = change_cause
    selector = json.loads(json.dumps(dep["spec"]["selector"]))
    selector["matchLabels"]["pod-template-hash"] = hashed
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{name}-{hashed}",
            "namespace": namespace,
            "uid": _uid("replicaset", namespace, name, hashed),
            "generation": 1,
            "resourceVersion": "1",
            "creationTimestamp": stamp(NOW - age),
            "labels": dict(tpl["metadata"]["labels"]),
            "annotations": annotations,
            "ownerReferences": [controlled_by(dep)],
        },
        "spec": {"replicas": replicas, "selector": selector, "template": tpl},
        "status": {"replicas": replicas, "observedGeneration": 1},
    }


def pod(
    owner: dict[str, Any],
    suffix: str,
    *,
    phase: str = "Running",
    ready: bool = True,
    restarts: int = 0,
    waiting: str | None = None,
    containers: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """A pod of `owner` (a ReplicaSet, StatefulSet or DaemonSet) with container statuses."""
    md = owner["metadata"]
    template = owner["spec"]["template"]
    labels = dict(template["metadata"].get("labels") or {})
    name = f"{md['name']}-{suffix}"
    names = containers or tuple(c["name"] for c in template["spec"]["containers"])
    specs = {c["name"]: c for c in template["spec"]["containers"]}
    statuses = []
    for cname in names:
        state: dict[str, Any]
        if waiting:
            state = {"waiting": {"reason": waiting, "message": f"{waiting} for {cname}"}}
        else:
            state = {"running": {"startedAt": stamp(NOW - timedelta(hours=2))}}
        statuses.append(
            {
                "name": cname,
                "ready": ready and not waiting,
                "restartCount": restarts,
                "image": specs.get(cname, {}).get("image", "busybox"),
                "imageID": "",
                "started": not waiting,
                "state": state,
                "lastState": {},
            }
        )
    spec = json.loads(json.dumps(template["spec"]))
    spec["nodeName"] = "node-1"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": md["namespace"],
            "uid": _uid("pod", md["namespace"], name),
            "resourceVersion": "1",
            "creationTimestamp": stamp(NOW - timedelta(hours=2)),
            "labels": labels,
            "ownerReferences": [controlled_by(owner)],
        },
        "spec": spec,
        "status": {
            "phase": phase,
            "hostIP": "10.0.0.1",
            "podIP": "10.1.0.1",
            "startTime": stamp(NOW - timedelta(hours=2)),
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": statuses,
        },
    }


def controlled_by(owner: dict[str, Any]) -> dict[str, Any]:
    """The owner reference a controller puts on what it creates."""
    md = owner["metadata"]
    return {
        "apiVersion": "apps/v1",
        "kind": owner["kind"],
        "name": md["name"],
        "uid": md["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_revision(
    owner: dict[str, Any], revision: int, template: dict[str, Any]
) -> dict[str, Any]:
    """A ControllerRevision of `owner` (a StatefulSet or DaemonSet), as its controller
    writes one: the owner's selector labels, the template as a replacing patch."""
    md = owner["metadata"]
    hashed = template_hash(template)
    data = {"spec": {"template": {**json.loads(json.dumps(template)), "$patch": "replace"}}}
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": f"{md['name']}-{hashed}",
            "namespace": md["namespace"],
            "uid": _uid("controllerrevision", md["namespace"], md["name"], hashed),
            "resourceVersion": "1",
            "creationTimestamp": stamp(NOW - timedelta(days=10 - revision)),
            "labels": {
                **owner["spec"]["selector"]["matchLabels"],
                "controller-revision-hash": hashed,
            },
            "ownerReferences": [controlled_by(owner)],
        },
        "data": data,
        "revision": revision,
    }


def statefulset(
    name: str, namespace: str, image: str, *, replicas: int = 2, ready: int | None = None
) -> dict[str, Any]:
    ready = replicas if ready is None else ready
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": _uid("statefulset", namespace, name),
            "generation": 1,
            "resourceVersion": "1",
            "creationTimestamp": stamp(NOW - timedelta(days=9)),
            "labels": {LABEL: name},
        },
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {LABEL: name, "app": name}},
            "template": pod_template(name, image),
            "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate"},
        },
        "status": {
            "observedGeneration": 1,
            "replicas": replicas,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "currentReplicas": replicas,
            "updatedReplicas": replicas,
            "currentRevision": f"{name}-abc",
            "updateRevision": f"{name}-abc",
        },
    }


def daemonset(name: str, namespace: str, image: str, *, nodes: int = 3) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": _uid("daemonset", namespace, name),
            "generation": 1,
            "resourceVersion": "1",
            "creationTimestamp": stamp(NOW - timedelta(days=30)),
            "labels": {LABEL: name},
        },
        "spec": {
            "selector": {"matchLabels": {LABEL: name, "app": name}},
            "template": pod_template(name, image),
            "updateStrategy": {"type": "RollingUpdate"},
        },
        "status": {
            "observedGeneration": 1,
            "desiredNumberScheduled": nodes,
            "currentNumberScheduled": nodes,
            "updatedNumberScheduled": nodes,
            "numberReady": nodes,
            "numberAvailable": nodes,
            "numberMisscheduled": 0,
        },
    }


def event(obj: dict[str, Any], reason: str, message: str, *, type: str = "Normal") -> dict:
    md = obj["metadata"]
    name = f"{md['name']}.{abs(hash((reason, message))) % 10**8:08d}"
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": name,
            "namespace": md["namespace"],
            "creationTimestamp": stamp(NOW),
        },
        "involvedObject": {
            "apiVersion": obj["apiVersion"],
            "kind": obj["kind"],
            "name": md["name"],
            "namespace": md["namespace"],
            "uid": md["uid"],
        },
        "reason": reason,
        "message": message,
        "type": type,
        "count": 1,
        "firstTimestamp": stamp(NOW - timedelta(minutes=5)),
        "lastTimestamp": stamp(NOW - timedelta(minutes=1)),
        "source": {"component": "kubelet"},
    }


def pod_metrics(pod_obj: dict[str, Any], cpu: str, memory: str) -> dict[str, Any]:
    md = pod_obj["metadata"]
    return {
        "apiVersion": "metrics.k8s.io/v1beta1",
        "kind": "PodMetrics",
        "metadata": {"name": md["name"], "namespace": md["namespace"], "labels": md["labels"]},
        "timestamp": stamp(NOW),
        "window": "15s",
        "containers": [
            {"name": c["name"], "usage": {"cpu": cpu, "memory": memory}}
            for c in pod_obj["spec"]["containers"]
        ],
    }


def service(
    name: str,
    namespace: str,
    image: str,
    *,
    pods: int = 3,
    history: tuple[str, ...] = (),
    waiting: str | None = None,
    restarts: int = 0,
    **deployment_options: Any,
) -> list[dict[str, Any]]:
    """A Deployment, its ReplicaSets (one per image in `history`, then the current) and pods."""
    dep = deployment(name, namespace, image, revision=len(history) + 1, **deployment_options)
    objs: list[dict[str, Any]] = [dep]
    for number, old_image in enumerate(history, start=1):
        old = pod_template(dep["metadata"]["labels"][LABEL], old_image)
        age = timedelta(days=len(history) + 2 - number)
        objs.append(replicaset(dep, number, old, change_cause=f"deploy {old_image}", age=age))
    current = replicaset(
        dep, len(history) + 1, dep["spec"]["template"], change_cause=f"deploy {image}",
        replicas=dep["spec"]["replicas"], age=timedelta(hours=2),
    )  # fmt: skip
    objs.append(current)
    for index in range(pods):
        objs.append(pod(current, f"p{index:03d}", waiting=waiting, restarts=restarts))
    return objs


class _QuickServer(aiohttp.test_utils.RawTestServer):
    """Stops at once, cutting open watch streams, as an API server that goes away."""

    async def _make_runner(self, **kwargs: Any) -> Any:
        runner = await super()._make_runner(**kwargs)
        runner._shutdown_timeout = 0.2
        return runner


class Cluster:
    """A KubernetesEmulator on a loopback port, served from its own thread.

    `stop()` takes the HTTP server down (the state stays); `start()` brings it back
    on the same port, as an API server restart looks to a client.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.emulator: kmock.KubernetesEmulator | None = None
        self._server: kmock.Server | None = None
        self.port: int | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.run(self._open())
        self.start()

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    async def _open(self) -> None:
        self.emulator = kmock.KubernetesEmulator()
        await self.emulator.__aenter__()
        # Known resources, so an empty list is an empty list and not a 404.
        for resource in (*RESOURCES.values(), EVENTS):
            self.emulator.resources[resource] = {}

    def start(self) -> None:
        async def up() -> None:
            options = {"port": self.port} if self.port else {}
            self._server = kmock.Server(self.emulator, server_cls=_QuickServer, **options)
            await self._server.__aenter__()
            self.port = self._server.port

        self.run(up())

    def stop(self) -> None:
        async def down() -> None:
            if self._server is not None:
                await self._server.__aexit__(None, None, None)
                self._server = None

        self.run(down())

    def close(self) -> None:
        self.stop()
        self.run(self.emulator.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def km(self) -> kmock.KubernetesEmulator:
        assert self.emulator is not None
        return self.emulator

    # --- objects ------------------------------------------------------------------

    def add(self, *objs: dict[str, Any]) -> None:
        """Seed objects directly (no watch events), as if they existed before the test."""
        for obj in objs:
            self.km.objects[self._resource(obj), obj["metadata"].get("namespace"),
                            obj["metadata"]["name"]] = obj  # fmt: skip

    def get(self, obj_or_kind: dict[str, Any] | str, namespace: str, name: str) -> dict:
        kind = obj_or_kind if isinstance(obj_or_kind, str) else obj_or_kind["kind"].lower()
        resource = RESOURCES.get(kind, kind)
        return json.loads(json.dumps(self.km.objects[resource, namespace, name].raw))

    def patch(self, kind: str, namespace: str, name: str, body: dict[str, Any]) -> None:
        """Change an object through the API, so watches see a MODIFIED event."""
        group = "api/v1" if kind == "pod" else "apis/apps/v1"
        path = f"/{group}/namespaces/{namespace}/{kind}s/{name}"

        async def send() -> None:
            async with self.km.patch(path, json=body) as response:
                assert response.status == 200, await response.text()

        self.run(send())

    def change_unseen(self, kind: str, namespace: str, name: str, body: dict[str, Any]) -> None:
        """Change an object without a watch event, as if a watch had missed it."""
        self.km.objects[RESOURCES[kind], namespace, name].patch(body)

    def count(self, *criteria: Any) -> int:
        """How many requests matched, e.g. count(kmock.action.LIST, kmock.resource(...))."""
        return len(list(self.km[criteria] if criteria else self.km))

    def react(self, criteria: Any, reply: Callable[[Any], Any]) -> None:
        """Answer matching requests with `reply(request)`; raising NotImplementedError
        from it hands the request on to the emulator."""
        self.km[criteria] << reply

    @staticmethod
    def _resource(obj: dict[str, Any]) -> str:
        if obj["kind"] == "PodMetrics":
            return POD_METRICS
        if obj["kind"] == "Event":
            return EVENTS
        return RESOURCES[obj["kind"].lower()]

    # --- kubeconfig ---------------------------------------------------------------

    def kubeconfig(
        self, path: Path, contexts: tuple[str, ...] = ("test",), token: str = "s3cr3t-token"
    ) -> Path:
        """A kubeconfig whose contexts all point at this cluster, with a bearer token."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "emulator", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": token}}],
            "contexts": [
                {"name": ctx, "context": {"cluster": "emulator", "user": "tester"}}
                for ctx in contexts
            ],
            "current-context": contexts[0],
        }
        path.write_text(yaml.safe_dump(config))
        return path


def provider(
    cluster: Cluster,
    tmp_path: Path,
    *,
    name: str = "k8s",
    context: str = "test",
    environments: dict[str, str] | None = None,
    **settings: Any,
) -> Any:
    """A KubernetesProvider for `cluster` with a quick metrics rhythm for tests."""
    from providers.base import ProviderContext
    from providers.kubernetes import KubernetesProvider

    kubeconfig = tmp_path / "kubeconfig"
    if not kubeconfig.exists():
        cluster.kubeconfig(kubeconfig)
    options = {
        "context": context,
        "kubeconfig": str(kubeconfig),
        "environments": (
            {"production": "production", "staging": "staging"}
            if environments is None
            else environments
        ),
        **settings,
    }
    made = KubernetesProvider(name, options, ProviderContext(data_dir=tmp_path / "data"))
    made.metrics_interval = 0.2
    return made


def at(ts: datetime) -> str:
    """A log line timestamp as the kubelet writes it (nanoseconds)."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def allow_everything(cluster: Cluster) -> Callable[[Any], Any]:
    """An authorizer that allows every access review, as a cluster-admin's API server would.

    The emulator stores created reviews and answers them with no status; a real API
    server keeps none and always answers, so the reply is computed here.
    """
    reviews = kmock.resource("authorization.k8s.io", "v1", "selfsubjectaccessreviews")

    def review(request: Any) -> dict[str, Any]:
        cluster.km.objects[reviews, None, None].delete()
        return {**request.data, "status": {"allowed": True}}

    return review


@pytest.fixture(name="cluster")
def cluster_fixture() -> Any:
    """A fresh emulator per test (import this fixture into a test module to use it)."""
    made = Cluster()
    try:
        yield made
    finally:
        made.close()
