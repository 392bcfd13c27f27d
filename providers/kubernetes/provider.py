"""The Kubernetes provider: one kubeconfig context, watched rather than polled.

Reflector threads list then watch Deployments, StatefulSets, DaemonSets and pods
into a cache; `snapshot()` reads the cache and `wait_changed()` returns on the
next watch event, so the hub redraws when the cluster changes, not on a timer.
Actions, logs, revisions and access reviews call the API on demand, in threads,
because the official client is synchronous.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import timedelta
from typing import Any

from console.domain.model import (
    CPU,
    MEMORY,
    EventInfo,
    LogLine,
    Revision,
    Series,
    Snapshot,
    TargetDetails,
    TargetRef,
    utcnow,
)
from providers.base import (
    Capability,
    NotFound,
    Provider,
    ProviderContext,
    ProviderError,
    Refused,
    Unsupported,
)
from providers.kubernetes import controller_rollout, rollout
from providers.kubernetes import logs as logstream
from providers.kubernetes.cache import Cache, WorkloadKey
from providers.kubernetes.client import MERGE_PATCH, api_client, body_json, translate
from providers.kubernetes.metrics import MetricsPoller
from providers.kubernetes.objects import (
    METHOD_NAMES,
    PLURALS,
    containers,
    meta,
    parse_time,
    primary_container,
    resolve_image,
    revision_problem,
    rfc3339,
    selector_string,
)
from providers.kubernetes.settings import DECLARED, check, parse
from providers.kubernetes.watch import Reflector

KINDS = ("deployment", "statefulset", "daemonset", "pod")
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
ACCESS_TTL = 60.0  # seconds an access review answer is trusted
CALL_TIMEOUT = (5, 30)  # connect, read seconds for one-shot API calls

_VERBS: dict[Capability, tuple[str, str]] = {
    Capability.DEPLOY: ("patch", ""),
    Capability.ROLLBACK: ("patch", ""),
    Capability.RESTART: ("patch", ""),
    Capability.SCALE: ("patch", "scale"),
    Capability.PAUSE: ("patch", ""),
}


class _Signal:
    """Wakes coroutines on any event loop from the watch threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self.version = 0

    def fire(self) -> None:
        with self._lock:
            self.version += 1
            waiters = list(self._waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # that loop has closed
                loop.call_soon_threadsafe(event.set)

    async def wait(self, seen: int, timeout: float | None = None) -> None:
        """Return once the version moved past `seen` (or after `timeout`)."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            if self.version != seen:
                return
            self._waiters.add(entry)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(entry)


class KubernetesProvider(Provider):
    kind = "kubernetes"
    capabilities = (
        Capability.SNAPSHOT
        | Capability.LOGS
        | Capability.METRICS
        | Capability.REVISIONS
        | Capability.DEPLOY
        | Capability.ROLLBACK
        | Capability.RESTART
        | Capability.SCALE
        | Capability.PAUSE
    )
    declared_settings = DECLARED
    # Seconds between metrics.k8s.io reads, and the pause that gathers a burst of
    # watch events into one wake-up of the hub.
    metrics_interval: float = 30.0
    coalesce: float = 0.02

    def __init__(self, name: str, settings: Mapping[str, Any], context: ProviderContext):
        super().__init__(name, settings, context)
        self.config = parse(self.settings)
        self._signal = _Signal()
        self.cache = Cache(self.config, name, on_change=self._signal.fire)
        self._api: Any = None
        self._start_lock = threading.Lock()
        self.reflectors: list[Reflector] = []
        self._metrics: MetricsPoller | None = None
        self._seen = -1
        self._access: dict[tuple, tuple[float, str | None]] = {}

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        return check(settings)

    # --- connection and cache -----------------------------------------------------

    def _client(self) -> Any:
        with self._start_lock:
            if self._api is None:
                self._api = api_client(self.config)
            return self._api

    def _start(self) -> None:
        api = self._client()
        with self._start_lock:
            if self.reflectors:
                return
            for namespace in self.config.namespaces or (None,):
                for kind in KINDS:
                    self.reflectors.append(Reflector(api, self.cache, kind, namespace))
            self._metrics = MetricsPoller(
                api, self.cache, self.config.namespaces, self.metrics_interval
            )
        for reflector in self.reflectors:
            reflector.start()
        self._metrics.start()

    async def snapshot(self) -> Snapshot:
        """The cached targets; the first call waits for the initial lists.

        A failing stream raises its typed error (the hub keeps the last snapshot,
        marked stale). Either way the version seen is recorded, so `wait_changed`
        wakes on the next event and not at once: an outage is not a busy loop.
        """
        if not self.reflectors:
            await asyncio.to_thread(self._start)
        streams = [r.name for r in self.reflectors]
        while True:
            seen = self._signal.version
            error = self.cache.first_error()
            if error is not None:
                self._seen = seen
                raise error
            if self.cache.ready(streams):
                break
            await self._signal.wait(seen, timeout=1.0)
        self._seen = seen
        targets = tuple(self.cache.targets_now())
        return Snapshot(self.name, targets, utcnow(), notes=self.cache.hidden_note())

    async def wait_changed(self) -> None:
        await self._signal.wait(self._seen)
        await asyncio.sleep(self.coalesce)

    async def close(self) -> None:
        for reflector in self.reflectors:
            reflector.close()
        if self._metrics is not None:
            self._metrics.close()
        for reflector in self.reflectors:
            await asyncio.to_thread(reflector.join, 2.0)
        if self._api is not None:
            self._api.close()

    # --- helpers ------------------------------------------------------------------

    def _key(self, target: TargetRef) -> WorkloadKey:
        kind, _, name = target.target.partition("/")
        if kind not in PLURALS or not name:
            raise NotFound(f"{target}: not a Kubernetes workload ({target.target!r})")
        return (self.config.namespace_of(target.environment), kind, name)

    async def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one blocking client call in a thread; failures become typed errors."""

        def run() -> Any:
            try:
                return fn(*args, **kwargs)
            except ProviderError:
                raise
            except Exception as exc:
                raise translate(exc, what) from None

        return await asyncio.to_thread(run)

    def _apps(self) -> Any:
        from kubernetes import client

        return client.AppsV1Api(self._client())

    def _core(self) -> Any:
        from kubernetes import client

        return client.CoreV1Api(self._client())

    def _read(self, key: WorkloadKey) -> dict[str, Any]:
        namespace, kind, name = key
        method = getattr(self._apps(), f"read_namespaced_{METHOD_NAMES[kind]}")
        return body_json(
            method(name, namespace, _preload_content=False, _request_timeout=CALL_TIMEOUT)
        )

    def _patch(self, key: WorkloadKey, body: dict[str, Any], subresource: str = "") -> None:
        namespace, kind, name = key
        suffix = f"_{subresource}" if subresource else ""
        method = getattr(self._apps(), f"patch_namespaced_{METHOD_NAMES[kind]}{suffix}")
        response = method(
            name,
            namespace,
            body,
            _content_type=MERGE_PATCH,
            _preload_content=False,
            _request_timeout=CALL_TIMEOUT,
        )
        response.release_conn()

    def _history_of(self, key: WorkloadKey, obj: dict[str, Any]) -> list[dict[str, Any]]:
        """The objects a workload's history lives in, by its selector: a Deployment's
        ReplicaSets, a StatefulSet's or DaemonSet's ControllerRevisions."""
        selector = selector_string((obj.get("spec") or {}).get("selector"))
        apps = self._apps()
        lister = (
            apps.list_namespaced_replica_set
            if key[1] == "deployment"
            else apps.list_namespaced_controller_revision
        )
        raw = lister(
            key[0],
            label_selector=selector or None,
            _preload_content=False,
            _request_timeout=CALL_TIMEOUT,
        )
        return body_json(raw).get("items") or []

    # --- read-only views ----------------------------------------------------------

    async def details(self, target: TargetRef) -> TargetDetails:
        """Pods from the watch cache; the recent events of the workload and its pods."""
        key = self._key(target)
        snapshot = await self.snapshot()
        found = next(
            (
                t
                for t in snapshot.targets
                if t.ref.target == target.target and t.ref.environment == target.environment
            ),
            None,
        )
        if found is None:
            raise NotFound(f"{target}: no such workload")
        pods = self.cache.pods_of(key)
        events = await self._call(f"events of {target.target}", self._events, key, pods)
        return TargetDetails(target=found, pods=tuple(pods), events=tuple(events))

    def _events(self, key: WorkloadKey, pods: list[Any]) -> list[EventInfo]:
        namespace, kind, name = key
        raw = self._core().list_namespaced_event(
            namespace, limit=500, _preload_content=False, _request_timeout=CALL_TIMEOUT
        )
        names = {p.name for p in pods}
        result = []
        for event in body_json(raw).get("items") or []:
            involved = event.get("involvedObject") or {}
            obj_name, obj_kind = involved.get("name", ""), involved.get("kind", "")
            if not (
                obj_name == name
                or obj_name in names
                or (obj_kind == "ReplicaSet" and obj_name.startswith(f"{name}-"))
            ):
                continue
            at = (
                parse_time(event.get("lastTimestamp"))
                or parse_time(event.get("eventTime"))
                or parse_time(meta(event).get("creationTimestamp"))
            )
            result.append(
                EventInfo(
                    at=at,
                    type=event.get("type", ""),
                    reason=event.get("reason", ""),
                    message=event.get("message", ""),
                    count=int(event.get("count") or 1),
                    source=f"{obj_kind.lower()}/{obj_name}",
                )
            )
        result.sort(key=lambda e: (e.at is None, e.at), reverse=True)
        return result[:20]

    async def revisions(self, target: TargetRef) -> list[Revision]:
        """The history, newest (current) first: a Deployment's ReplicaSets, a
        StatefulSet's or DaemonSet's ControllerRevisions."""
        key = self._key(target)

        def run() -> list[Revision]:
            obj = self._read(key)
            records = self._history_of(key, obj)
            if key[1] == "deployment":
                return rollout.history(rollout.owned(obj, records))
            return controller_rollout.history(controller_rollout.owned(obj, records))

        return await self._call(f"history of {target.target}", run)

    async def metrics(self, target: TargetRef, window: timedelta) -> list[Series]:
        key = self._key(target)
        samples = self.cache.samples(key)
        if not samples and self.cache.metrics_note:
            raise Unsupported(self.cache.metrics_note)
        since = utcnow() - window
        recent = [s for s in samples if s[0] >= since]
        return [
            Series(CPU, tuple((at, cpu) for at, cpu, _ in recent if cpu >= 0)),
            Series(MEMORY, tuple((at, mem) for at, _, mem in recent if mem >= 0)),
        ]

    def logs(
        self,
        target: TargetRef,
        *,
        follow: bool = False,
        since: timedelta | None = None,
        tail: int | None = None,
        container: str | None = None,
        previous: bool = False,
        pod: str | None = None,
        max_lines: int = logstream.MAX_LINES,
    ) -> AsyncIterator[LogLine]:
        """One pod's (`pod`) or every pod's lines, merged by time, prefixed by pod.

        A multi-container pod without a `container` choice shows all its containers,
        each line prefixed `pod/container`.
        """
        key = self._key(target)
        options = {"follow": follow, "since": since, "tail": tail, "previous": previous}
        return self._logs(target, key, pod, container, max_lines, options)

    async def _logs(
        self,
        target: TargetRef,
        key: WorkloadKey,
        pod: str | None,
        container: str | None,
        max_lines: int,
        options: dict[str, Any],
    ) -> AsyncIterator[LogLine]:
        if not self.reflectors:
            await self.snapshot()  # the pods come from the watch cache
        pods = [p for p in self.cache.pods_of(key) if pod is None or p.name == pod]
        sources = []
        if pod is not None and not pods:
            sources.append(logstream.Source(pod, container, pod))
        for info in pods:
            names = [container] if container else list(info.containers) or [None]
            for name in names:
                label = info.name if len(names) == 1 else f"{info.name}/{name}"
                sources.append(logstream.Source(info.name, name, label))
        if not sources:
            raise NotFound(f"{target}: no pods to read logs from")
        stream = logstream.stream(self._client(), key[0], sources, max_lines=max_lines, **options)
        try:
            async for line in stream:
                yield line
        finally:
            await stream.aclose()

    # --- permissions --------------------------------------------------------------

    async def denied(self, target: TargetRef, capability: Capability) -> str | None:
        """Why this action may not be offered, from a SelfSubjectAccessReview."""
        if not self.can(capability):
            return "read-only" if self.readonly else f"{self.kind} cannot do that"
        key = self._key(target)
        namespace, kind, name = key
        if capability is Capability.SCALE and kind == "daemonset":
            return "a daemonset runs one pod per node; it cannot be scaled"
        verb, subresource = _VERBS.get(capability, ("get", ""))
        cache_key = (namespace, kind, name, verb, subresource)
        cached = self._access.get(cache_key)
        if cached is not None and time.monotonic() - cached[0] < ACCESS_TTL:
            return cached[1]
        try:
            reason = await self._call(
                "access review", self._review, namespace, PLURALS[kind], name, verb, subresource
            )
        except ProviderError as exc:
            return f"could not check permissions: {exc}"
        self._access[cache_key] = (time.monotonic(), reason)
        return reason

    def _review(
        self, namespace: str, plural: str, name: str, verb: str, subresource: str
    ) -> str | None:
        from kubernetes import client

        attributes = {
            "namespace": namespace,
            "verb": verb,
            "group": "apps",
            "resource": plural,
            "name": name,
        }
        if subresource:
            attributes["subresource"] = subresource
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes},
        }
        raw = client.AuthorizationV1Api(self._client()).create_self_subject_access_review(
            body, _preload_content=False, _request_timeout=CALL_TIMEOUT
        )
        status = body_json(raw).get("status") or {}
        if status.get("allowed"):
            return None
        what = f"{plural}/{subresource}" if subresource else plural
        reason = status.get("reason") or status.get("evaluationError") or ""
        text = f"not allowed to {verb} {what} in namespace {namespace}"
        return f"{text}: {reason}" if reason else text

    # --- actions ------------------------------------------------------------------

    def _writable(self, capability: Capability) -> None:
        if not self.can(capability):
            raise Refused(f"provider {self.name} is read-only")

    async def check_revision(self, target: TargetRef, revision: str) -> str | None:
        return revision_problem(revision)

    async def deploy(self, target: TargetRef, revision: str) -> str:
        """Set a container's image, as `kubectl set image` does.

        `revision` is a tag on the container's repository or a full image; the
        container is the one named like the workload (else the first), or the one
        named before `=` (`proxy=1.31`, `proxy=envoy:1.31`).
        """
        self._writable(Capability.DEPLOY)
        problem = revision_problem(revision)
        if problem:
            raise Refused(problem)
        key = self._key(target)
        chosen, _, wanted = revision.rpartition("=")

        def run() -> str:
            obj = self._read(key)
            if chosen:
                main = next((c for c in containers(obj) if c.get("name") == chosen), None)
                if main is None:
                    names = ", ".join(c.get("name", "") for c in containers(obj))
                    raise Refused(f"{target.target} has no container {chosen!r} ({names})")
            else:
                main = primary_container(obj)
            if main is None:
                raise Refused(f"{target.target} has no containers")
            image = resolve_image(main.get("image", ""), wanted)
            updated = [
                dict(c, image=image) if c.get("name") == main.get("name") else c
                for c in containers(obj)
            ]
            body = {
                "metadata": {
                    "annotations": {
                        rollout.CHANGE_CAUSE: f"quorum deploy {main.get('name')}={image}"
                    }
                },
                "spec": {"template": {"spec": {"containers": updated}}},
            }
            self._patch(key, rollout.with_precondition(body, obj))
            return f"{key[1]}.apps/{key[2]} image updated: {main.get('name')}={image}"

        return await self._call(f"deploy {target.target}", run)

    async def rollback(self, target: TargetRef, to: str | None = None) -> str:
        """`kubectl rollout undo [--to-revision]` with kubectl's rules and messages."""
        self._writable(Capability.ROLLBACK)
        key = self._key(target)
        try:
            number = int(to) if to else 0
        except ValueError:
            raise Refused(f"unable to find specified revision {to} in history") from None

        def run() -> str:
            obj = self._read(key)
            records = self._history_of(key, obj)
            undo = rollout.undo if key[1] == "deployment" else controller_rollout.undo
            patch, message = undo(obj, records, number)
            if patch is not None:
                self._patch(key, patch)
            return message

        return await self._call(f"rollback {target.target}", run)

    async def restart(self, target: TargetRef) -> str:
        """`kubectl rollout restart`: a new restartedAt annotation on the pod template."""
        self._writable(Capability.RESTART)
        key = self._key(target)

        def run() -> str:
            obj = self._read(key)
            if (obj.get("spec") or {}).get("paused"):
                raise Refused(f"can't restart paused {key[1]} (run rollout resume first)")
            stamp = rfc3339(utcnow())
            body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
            self._patch(key, body)
            return f"{key[1]}.apps/{key[2]} restarted"

        return await self._call(f"restart {target.target}", run)

    async def scale(self, target: TargetRef, replicas: int) -> str:
        self._writable(Capability.SCALE)
        key = self._key(target)
        if key[1] == "daemonset":
            raise Refused("a daemonset runs one pod per node; it cannot be scaled")
        if replicas < 0:
            raise Refused("replicas must be zero or more")

        def run() -> str:
            self._patch(key, {"spec": {"replicas": replicas}}, subresource="scale")
            return f"{key[1]}.apps/{key[2]} scaled to {replicas}"

        return await self._call(f"scale {target.target}", run)

    async def pause(self, target: TargetRef) -> str:
        """`kubectl rollout pause`: changes to the template stop rolling out."""
        return await self._set_paused(target, True)

    async def resume(self, target: TargetRef) -> str:
        return await self._set_paused(target, False)

    async def _set_paused(self, target: TargetRef, paused: bool) -> str:
        self._writable(Capability.PAUSE)
        key = self._key(target)
        if key[1] != "deployment":
            raise Unsupported(f"a {key[1]} cannot be paused")

        def run() -> str:
            self._patch(key, {"spec": {"paused": paused}})
            return f"deployment.apps/{key[2]} {'paused' if paused else 'resumed'}"

        return await self._call(f"{'pause' if paused else 'resume'} {target.target}", run)
