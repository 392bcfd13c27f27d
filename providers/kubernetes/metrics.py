"""CPU and memory from metrics.k8s.io, as percent of what the pods may use.

metrics-server refreshes every 15-60 s, so one poller per cluster reads every pod's
usage on that rhythm and the cache turns it into each workload's percentage of its
pods' limits (or requests where no limit is set). A cluster without metrics-server
answers 404: that is noted quietly ("no metrics-server"), not raised as a failure.
"""

from __future__ import annotations

import threading
from typing import Any

from console.domain.model import CPU, MEMORY
from providers.kubernetes.cache import Cache, WorkloadKey
from providers.kubernetes.client import body_json, translate
from providers.kubernetes.objects import meta, quantity

NO_METRICS = "no metrics-server"


def pod_usage(items: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[float, float]]:
    """(namespace, pod) -> (cores, bytes) summed over containers."""
    usage = {}
    for item in items:
        md = meta(item)
        cpu = memory = 0.0
        for container in item.get("containers") or []:
            values = container.get("usage") or {}
            cpu += quantity(values.get("cpu"))
            memory += quantity(values.get("memory"))
        usage[(md.get("namespace", ""), md.get("name", ""))] = (cpu, memory)
    return usage


def percentages(
    cache: Cache, usage: dict[tuple[str, str], tuple[float, float]]
) -> dict[WorkloadKey, dict[str, float]]:
    """Each workload's usage as percent of its pods' budgets (pods without one skipped)."""
    sums: dict[WorkloadKey, list[float]] = {}
    with cache.lock:
        for key, (cpu, memory) in usage.items():
            entry = cache.pods.get(key)
            if entry is None or entry.owner is None:
                continue
            acc = sums.setdefault(entry.owner, [0.0, 0.0, 0.0, 0.0])
            if entry.cpu_budget > 0:
                acc[0] += cpu
                acc[1] += entry.cpu_budget
            if entry.memory_budget > 0:
                acc[2] += memory
                acc[3] += entry.memory_budget
    result: dict[WorkloadKey, dict[str, float]] = {}
    for owner, (cpu, cpu_budget, memory, memory_budget) in sums.items():
        values = {}
        if cpu_budget > 0:
            values[CPU] = round(100.0 * cpu / cpu_budget, 1)
        if memory_budget > 0:
            values[MEMORY] = round(100.0 * memory / memory_budget, 1)
        if values:
            result[owner] = values
    return result


class MetricsPoller:
    """One thread reading pod metrics every `interval` seconds into the cache."""

    def __init__(
        self, api: Any, cache: Cache, namespaces: tuple[str, ...] | None, interval: float
    ) -> None:
        self.api = api
        self.cache = cache
        self.namespaces = namespaces
        self.interval = interval
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.stop.set()

    def _run(self) -> None:
        while not self.stop.is_set():
            self.poll()
            self.stop.wait(self.interval)

    def poll(self) -> None:
        from kubernetes import client

        api = client.CustomObjectsApi(self.api)
        items: list[dict[str, Any]] = []
        try:
            for namespace in self.namespaces or (None,):
                if namespace is None:
                    raw = api.list_cluster_custom_object(
                        "metrics.k8s.io", "v1beta1", "pods", _preload_content=False
                    )
                else:
                    raw = api.list_namespaced_custom_object(
                        "metrics.k8s.io", "v1beta1", namespace, "pods", _preload_content=False
                    )
                items.extend(body_json(raw).get("items") or [])
        except Exception as exc:  # no metrics is a note on the screen, not a failure
            status = getattr(exc, "status", None)
            note = NO_METRICS if status == 404 else str(translate(exc, "metrics"))
            self.cache.set_usage({}, note)
        else:
            self.cache.set_usage(percentages(self.cache, pod_usage(items)))
