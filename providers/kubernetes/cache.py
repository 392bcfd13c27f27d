"""The watch cache of one cluster: workloads, a summary of every pod, reflector health.

Watch threads write to it; `snapshot()` reads it. Each workload's target is
recomputed only when the workload or one of its pods changed, so a snapshot of a
thousand workloads is a dictionary walk, not a thousand status computations.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from console.domain.model import CPU, MEMORY, PodInfo, Target, TargetRef, utcnow
from providers.base import ProviderError
from providers.kubernetes.objects import image_revision, meta, primary_container
from providers.kubernetes.settings import Settings
from providers.kubernetes.status import PodEntry, pod_entry, rollout

WorkloadKey = tuple[str, str, str]  # (namespace, kind, name)
HISTORY = 240  # metric samples kept per workload (two hours at 30 s)


@dataclass
class Cache:
    settings: Settings
    provider: str
    on_change: Callable[[], None] = lambda: None
    lock: threading.Lock = field(default_factory=threading.Lock)
    workloads: dict[WorkloadKey, dict[str, Any]] = field(default_factory=dict)
    pods: dict[tuple[str, str], PodEntry] = field(default_factory=dict)
    pods_by_owner: dict[WorkloadKey, dict[str, PodInfo]] = field(default_factory=dict)
    targets: dict[WorkloadKey, Target] = field(default_factory=dict)
    dirty: set[WorkloadKey] = field(default_factory=set)
    usage: dict[WorkloadKey, dict[str, float]] = field(default_factory=dict)
    history: dict[WorkloadKey, deque[tuple[datetime, float, float]]] = field(default_factory=dict)
    errors: dict[str, ProviderError] = field(default_factory=dict)
    # Streams the credentials may not list (403) or the server does not serve (404):
    # shown as missing with the reason, while every other kind is shown.
    hidden: dict[str, str] = field(default_factory=dict)
    synced: set[str] = field(default_factory=set)
    metrics_note: str = ""

    # --- written by watch threads -------------------------------------------------

    def replace(self, stream: str, kind: str, namespace: str | None, items: list[dict]) -> None:
        """A fresh list of one kind in one namespace (or all): what is missing is gone."""
        with self.lock:
            if kind == "pod":
                stale = [k for k in self.pods if namespace is None or k[0] == namespace]
                for key in stale:
                    self._drop_pod(key)
                for item in items:
                    self._put_pod(item)
            else:
                stale = [k for k in self.workloads if k[1] == kind and namespace in (None, k[0])]
                for key in stale:
                    self._drop_workload(key)
                for item in items:
                    self._put_workload(kind, item)
            self.synced.add(stream)
            self.errors.pop(stream, None)
            self.hidden.pop(stream, None)
        self.on_change()

    def apply(self, kind: str, event: str, obj: dict[str, Any]) -> None:
        """One watch event (ADDED, MODIFIED, DELETED) as a keyed update.

        An event that changes nothing (a replayed ADDED after a reconnect) wakes nobody.
        """
        md = meta(obj)
        with self.lock:
            if kind == "pod":
                key = (md.get("namespace", ""), md.get("name", ""))
                if event == "DELETED":
                    changed = key in self.pods
                    self._drop_pod(key)
                else:
                    changed = self._put_pod(obj)
            else:
                key3 = (md.get("namespace", ""), kind, md.get("name", ""))
                if event == "DELETED":
                    changed = key3 in self.workloads
                    self._drop_workload(key3)
                else:
                    changed = self.workloads.get(key3) != obj
                    if changed:
                        self._put_workload(kind, obj)
        if changed:
            self.on_change()

    def failed(self, stream: str, error: ProviderError) -> None:
        """A stream failed; only a new or different failure wakes the hub."""
        with self.lock:
            previous = self.errors.get(stream)
            self.errors[stream] = error
        if previous is None or str(previous) != str(error):
            self.on_change()

    def hide(self, stream: str, reason: str) -> None:
        """A stream this account may not list: counted as synced and empty, with its reason."""
        with self.lock:
            before = self.hidden.get(stream)
            self.hidden[stream] = reason
            self.errors.pop(stream, None)
            self.synced.add(stream)
        if before != reason:
            self.on_change()

    def hidden_note(self) -> tuple[str, ...]:
        """One line naming every hidden stream and why, or nothing."""
        with self.lock:
            hidden = sorted(self.hidden.items())
        if not hidden:
            return ()
        return ("not shown: " + "; ".join(f"{stream} ({why})" for stream, why in hidden),)

    def recovered(self, stream: str) -> None:
        with self.lock:
            had = self.errors.pop(stream, None)
        if had is not None:
            self.on_change()

    def set_usage(self, usage: dict[WorkloadKey, dict[str, float]], note: str = "") -> None:
        """Metrics as percent of budget per workload; `note` says why there are none."""
        now = utcnow()
        with self.lock:
            if not usage and not self.usage and note == self.metrics_note:
                return
            self.metrics_note = note
            changed = set(self.usage) | set(usage)
            self.usage = usage
            for key, values in usage.items():
                ring = self.history.setdefault(key, deque(maxlen=HISTORY))
                ring.append((now, values.get(CPU, -1.0), values.get(MEMORY, -1.0)))
            self.dirty |= changed & set(self.workloads)
        self.on_change()

    def _put_workload(self, kind: str, obj: dict[str, Any]) -> None:
        md = meta(obj)
        key = (md.get("namespace", ""), kind, md.get("name", ""))
        self.workloads[key] = obj
        self.dirty.add(key)

    def _drop_workload(self, key: WorkloadKey) -> None:
        self.workloads.pop(key, None)
        self.targets.pop(key, None)
        self.dirty.discard(key)

    def _put_pod(self, obj: dict[str, Any]) -> bool:
        """Keep a pod's summary; False when the summary did not change."""
        entry = pod_entry(obj)
        md = meta(obj)
        key = (md.get("namespace", ""), md.get("name", ""))
        old = self.pods.get(key)
        if old == entry:
            return False
        if old is not None and old.owner != entry.owner:
            self._drop_pod(key)
        self.pods[key] = entry
        if entry.owner is not None:
            self.pods_by_owner.setdefault(entry.owner, {})[entry.info.name] = entry.info
            self.dirty.add(entry.owner)
        return True

    def _drop_pod(self, key: tuple[str, str]) -> None:
        entry = self.pods.pop(key, None)
        if entry is None or entry.owner is None:
            return
        owned = self.pods_by_owner.get(entry.owner)
        if owned is not None:
            owned.pop(entry.info.name, None)
            if not owned:
                del self.pods_by_owner[entry.owner]
        self.dirty.add(entry.owner)

    # --- read by the provider -----------------------------------------------------

    def ready(self, streams: Iterable[str]) -> bool:
        with self.lock:
            return all(s in self.synced for s in streams)

    def first_error(self) -> ProviderError | None:
        with self.lock:
            return next(iter(self.errors.values()), None)

    def targets_now(self) -> list[Target]:
        """Every workload as a Target, recomputing only those that changed."""
        with self.lock:
            for key in self.dirty:
                obj = self.workloads.get(key)
                if obj is None:
                    continue
                target = self._target(key, obj)
                if target is None:
                    self.targets.pop(key, None)
                else:
                    self.targets[key] = target
            self.dirty.clear()
            targets = list(self.targets.values())
        return _unique_services(targets)

    def pods_of(self, key: WorkloadKey) -> list[PodInfo]:
        with self.lock:
            return sorted(self.pods_by_owner.get(key, {}).values(), key=lambda p: p.name)

    def samples(self, key: WorkloadKey) -> list[tuple[datetime, float, float]]:
        with self.lock:
            return list(self.history.get(key, ()))

    def _target(self, key: WorkloadKey, obj: dict[str, Any]) -> Target | None:
        namespace, kind, name = key
        environment = self.settings.environment_of(namespace)
        if environment is None:
            return None
        labels = meta(obj).get("labels") or {}
        service = (
            self.settings.services.get(f"{kind}/{name}") or labels.get(self.settings.label) or name
        )
        pods = list(self.pods_by_owner.get(key, {}).values())
        state = rollout(kind, obj, pods)
        container = primary_container(obj)
        return Target(
            ref=TargetRef(self.provider, service, environment, f"{kind}/{name}"),
            revision=image_revision(container.get("image", "")) if container else "",
            status=state.status,
            ready=state.ready,
            desired=state.desired,
            updated_at=state.updated_at,
            message=state.message,
            metrics=dict(self.usage.get(key, {})),
        )


def _unique_services(targets: list[Target]) -> list[Target]:
    """Two workloads labelled as one service in one environment each keep their own name."""
    seen: dict[tuple[str, str], int] = {}
    for target in targets:
        pair = (target.ref.service, target.ref.environment)
        seen[pair] = seen.get(pair, 0) + 1
    result = []
    for target in targets:
        ref = target.ref
        if seen[(ref.service, ref.environment)] > 1:
            name = ref.target.partition("/")[2]
            target = _renamed(target, name)
        result.append(target)
    result.sort(key=lambda t: (t.ref.environment, t.ref.service))
    return result


def _renamed(target: Target, service: str) -> Target:
    return replace(target, ref=replace(target.ref, service=service))
