"""Rollout status of a workload and the state of its pods, from raw JSON.

The rules follow `kubectl rollout status`: a spec change not yet observed is
progressing; a Progressing condition with ProgressDeadlineExceeded has failed;
new replicas not yet updated, old ones not yet gone, or updated ones not yet
available are progressing. On top of that, pods that cannot start (crash loops,
image pulls) make the target degraded and name the pod in the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.domain.model import PodInfo, RolloutStatus
from providers.kubernetes.objects import meta, parse_time, quantity

# Waiting reasons that are normal for a starting pod, not worth a message.
_STARTING = frozenset({"ContainerCreating", "PodInitializing", ""})


@dataclass(frozen=True, slots=True)
class PodEntry:
    """What the cache keeps of a pod: its summary, owner and resource budget."""

    info: PodInfo
    owner: tuple[str, str, str] | None  # (namespace, kind, name) of the workload
    cpu_budget: float  # cores: the limits, or the requests where no limit is set
    memory_budget: float  # bytes, likewise


def pod_owner(pod: dict[str, Any]) -> tuple[str, str, str] | None:
    """The workload that controls a pod, from its controller reference.

    A Deployment's pods are owned by a ReplicaSet named `<deployment>-<pod-template-hash>`,
    so the Deployment's name is the ReplicaSet's minus the hash the pod carries.
    """
    md = meta(pod)
    namespace = md.get("namespace", "")
    for ref in md.get("ownerReferences") or []:
        if not ref.get("controller", True):
            continue
        kind, name = ref.get("kind", ""), ref.get("name", "")
        if kind == "ReplicaSet":
            suffix = "-" + (md.get("labels") or {}).get("pod-template-hash", "\0")
            if name.endswith(suffix):
                return (namespace, "deployment", name[: -len(suffix)])
            return None
        if kind in ("StatefulSet", "DaemonSet"):
            return (namespace, kind.lower(), name)
    return None


def pod_entry(pod: dict[str, Any]) -> PodEntry:
    md, spec, status = meta(pod), pod.get("spec") or {}, pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    restarts = sum(int(s.get("restartCount") or 0) for s in statuses)
    reason = ""
    for s in statuses:
        state = s.get("state") or {}
        waiting = state.get("waiting")
        if waiting and waiting.get("reason") not in _STARTING:
            reason = waiting.get("reason", "")
            break
        terminated = state.get("terminated")
        if terminated and terminated.get("reason") not in ("Completed", None):
            reason = terminated["reason"]
            break
    if not reason and status.get("reason"):
        reason = status["reason"]  # Evicted, NodeLost...
    ready = bool(statuses) and all(s.get("ready") for s in statuses)
    cpu = memory = 0.0
    for container in spec.get("containers") or []:
        resources = container.get("resources") or {}
        limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
        cpu += quantity(limits.get("cpu") or requests.get("cpu"))
        memory += quantity(limits.get("memory") or requests.get("memory"))
    info = PodInfo(
        name=md.get("name", ""),
        phase=status.get("phase", "Unknown"),
        ready=ready,
        restarts=restarts,
        reason=reason,
        containers=tuple(c.get("name", "") for c in spec.get("containers") or []),
        node=spec.get("nodeName", ""),
        started_at=parse_time(status.get("startTime")),
    )
    return PodEntry(info, pod_owner(pod), cpu, memory)


@dataclass(frozen=True, slots=True)
class Rollout:
    """A workload's rollout reduced to the counts all three kinds share."""

    status: RolloutStatus
    message: str
    desired: int
    ready: int
    updated_at: datetime | None


def _condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    for cond in status.get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return {}


def _counts(kind: str, obj: dict[str, Any]) -> tuple[int, int, int, int, int]:
    """(desired, current, updated, ready, available) for any workload kind."""
    spec, st = obj.get("spec") or {}, obj.get("status") or {}
    if kind == "daemonset":
        return (
            int(st.get("desiredNumberScheduled") or 0),
            int(st.get("currentNumberScheduled") or 0),
            int(st.get("updatedNumberScheduled") or 0),
            int(st.get("numberReady") or 0),
            int(st.get("numberAvailable") or 0),
        )
    desired = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    return (
        desired,
        int(st.get("replicas") or 0),
        int(st.get("updatedReplicas") or 0),
        int(st.get("readyReplicas") or 0),
        int(st.get("availableReplicas") or 0),
    )


def rollout(kind: str, obj: dict[str, Any], pods: list[PodInfo]) -> Rollout:
    """The rollout status and its one-line reason, pods' troubles first."""
    md, spec, st = meta(obj), obj.get("spec") or {}, obj.get("status") or {}
    desired, current, updated, ready, available = _counts(kind, obj)
    progressing = _condition(st, "Progressing")
    updated_at = parse_time(progressing.get("lastUpdateTime")) or parse_time(
        md.get("creationTimestamp")
    )
    trouble = pod_trouble(pods)

    def done(status: RolloutStatus, message: str) -> Rollout:
        if trouble and message:
            message = f"{trouble}; {message}"
        return Rollout(status, message or trouble, desired, ready, updated_at)

    if spec.get("paused"):
        return done(RolloutStatus.PAUSED, "rollout paused")
    if int(md.get("generation") or 0) > int(st.get("observedGeneration") or 0):
        return done(RolloutStatus.PROGRESSING, "waiting for the spec update to be observed")
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return done(RolloutStatus.FAILED, "progress deadline exceeded")
    if trouble:
        return done(RolloutStatus.DEGRADED, "")
    if kind == "deployment":
        rolling = progressing.get("reason") != "NewReplicaSetAvailable"
    elif kind == "statefulset":
        rolling = st.get("updateRevision") != st.get("currentRevision")
    else:
        rolling = updated < desired
    if updated < desired:
        return done(RolloutStatus.PROGRESSING, f"{updated} of {desired} new replicas updated")
    if current > updated:
        return done(RolloutStatus.PROGRESSING, f"{current - updated} old replicas terminating")
    if rolling and available < updated:
        return done(
            RolloutStatus.PROGRESSING, f"{available} of {updated} updated replicas available"
        )
    availability = _condition(st, "Available")
    if availability.get("status") == "False":
        return done(RolloutStatus.DEGRADED, f"unavailable: {availability.get('reason', '')}")
    if ready < desired:
        return done(RolloutStatus.DEGRADED, f"{ready}/{desired} ready")
    return done(RolloutStatus.READY, "")


def pod_trouble(pods: list[PodInfo]) -> str:
    """ "CrashLoopBackOff: api-7d9f (5 restarts)" for the worst pod, "" when all are fine."""
    troubled = [p for p in pods if p.reason or p.phase == "Failed"]
    if not troubled:
        return ""
    worst = max(troubled, key=lambda p: (p.reason in _SEVERE, p.restarts, p.name))
    text = f"{worst.reason or worst.phase}: {worst.name} ({worst.restarts} restarts)"
    if len(troubled) > 1:
        text += f" +{len(troubled) - 1} more"
    return text


_SEVERE = frozenset(
    {"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "OOMKilled", "InvalidImageName"}
)
