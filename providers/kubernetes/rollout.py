"""`kubectl rollout undo` for Deployments, as pure functions over raw JSON.

The rules are kubectl's: the previous revision is the second highest among the
Deployment's ReplicaSets; a chosen revision must exist; a paused Deployment is
refused; a template that already matches is skipped; the ReplicaSet's template is
copied without its `pod-template-hash` label, and the Deployment's annotations are
replaced by the ReplicaSet's, keeping the Deployment's own bookkeeping ones.
"""

from __future__ import annotations

import copy
from typing import Any

from console.domain.model import Revision
from providers.base import Refused
from providers.kubernetes.objects import meta, parse_time

REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
HASH = "pod-template-hash"
# kubectl's annotationsToSkip: the Deployment keeps its own values of these.
SKIP = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)


def revision_of(rs: dict[str, Any]) -> int:
    try:
        return int((meta(rs).get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def owned(deployment: dict[str, Any], replicasets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ReplicaSets this Deployment controls."""
    return owned_by(deployment, replicasets, "Deployment")


def owned_by(owner: dict[str, Any], objects: list[dict[str, Any]], kind: str) -> list[dict]:
    """The `objects` whose controller is `owner`, a `kind` (by UID, else by name)."""
    uid = meta(owner).get("uid")
    name = meta(owner).get("name", "")
    result = []
    for obj in objects:
        refs = [r for r in meta(obj).get("ownerReferences") or [] if r.get("controller")]
        if refs:
            ref = refs[0]
            if ref.get("kind") == kind and (
                ref.get("uid") == uid if uid else ref.get("name") == name
            ):
                result.append(obj)
    return result


def history(replicasets: list[dict[str, Any]]) -> list[Revision]:
    """Revisions newest first: number, images, change-cause; the newest is current."""
    ordered = sorted(replicasets, key=revision_of, reverse=True)
    return [
        revision(rs, revision_of(rs), (rs.get("spec") or {}).get("template") or {}, index == 0)
        for index, rs in enumerate(ordered)
    ]


def revision(record: dict[str, Any], number: int, template: dict[str, Any], current: bool):
    """One history entry: number, the template's images, the record's change-cause."""
    images = ", ".join(
        c.get("image", "") for c in (template.get("spec") or {}).get("containers") or []
    )
    cause = (meta(record).get("annotations") or {}).get(CHANGE_CAUSE, "")
    return Revision(
        id=str(number),
        created_at=parse_time(meta(record).get("creationTimestamp")),
        description=f"{images} — {cause}" if cause else images,
        current=current,
    )


def _without_hash(template: dict[str, Any]) -> dict[str, Any]:
    template = copy.deepcopy(template)
    labels = (template.get("metadata") or {}).get("labels")
    if labels is not None:
        labels.pop(HASH, None)
    return template


def pick(deployment: dict[str, Any], replicasets: list[dict[str, Any]], to: int) -> dict:
    """The ReplicaSet to roll back to, with kubectl's errors."""
    name = meta(deployment).get("name", "")
    if to > 0:
        for rs in replicasets:
            if revision_of(rs) == to:
                return rs
        raise Refused(f"unable to find specified revision {to} in history")
    newest = previous = 0
    newest_rs = previous_rs = None
    for rs in replicasets:
        version = revision_of(rs)
        if version > newest:
            previous, previous_rs = newest, newest_rs
            newest, newest_rs = version, rs
        elif version > previous:
            previous, previous_rs = version, rs
    if previous_rs is None:
        raise Refused(f'no rollout history found for deployment "{name}"')
    return previous_rs


def undo(
    deployment: dict[str, Any], replicasets: list[dict[str, Any]], to: int = 0
) -> tuple[dict[str, Any] | None, str]:
    """(merge patch to apply, or None when there is nothing to do; what kubectl would say)."""
    if (deployment.get("spec") or {}).get("paused"):
        raise Refused(
            "you cannot rollback a paused deployment; resume it first with "
            "'kubectl rollout resume' and try again"
        )
    rs = pick(deployment, owned(deployment, replicasets), to)
    template = _without_hash((rs.get("spec") or {}).get("template") or {})
    current = (deployment.get("spec") or {}).get("template") or {}
    if template == _without_hash(current):
        return (
            None,
            f"skipped rollback (current template already matches revision {to or revision_of(rs)})",
        )
    own = meta(deployment).get("annotations") or {}
    annotations = {k: v for k, v in own.items() if k in SKIP}
    for key, value in (meta(rs).get("annotations") or {}).items():
        if key not in SKIP:
            annotations[key] = value
    name = meta(deployment).get("name", "")
    patch = merge_diff(
        {"metadata": {"annotations": own}, "spec": {"template": current}},
        {"metadata": {"annotations": annotations}, "spec": {"template": template}},
    )
    return with_precondition(patch, deployment), f"deployment.apps/{name} rolled back"


def merge_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """An RFC 7386 merge patch turning `old` into `new` (missing keys become null).

    kubectl sends a JSON patch that replaces the template wholesale; a merge patch
    that nulls what the old template had and the new one lacks ends in the same
    object, and every API server (and emulator) applies it the same way.
    """
    patch: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, dict) and isinstance(before, dict):
            sub = merge_diff(before, value)
            if sub:
                patch[key] = sub
        elif key not in old or before != value:
            patch[key] = copy.deepcopy(value)
    return patch


def with_precondition(patch: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    """The patch fails with a conflict if the object changed since it was read."""
    version = meta(obj).get("resourceVersion")
    if version:
        patch.setdefault("metadata", {})["resourceVersion"] = version
    return patch
