"""`kubectl rollout history` and `undo` for StatefulSets and DaemonSets, over raw JSON.

Their history is kept in ControllerRevisions, not ReplicaSets: each carries its
revision number and, in `data`, the pod template as the patch that restores it
(`{"spec": {"template": {..., "$patch": "replace"}}}`). kubectl's rules: without a
chosen revision the previous is the second highest; a chosen revision must exist,
and with fewer than two revisions there is none to go back to ("unable to find
specified revision 0 in history", kubectl's words); a template that already matches
is skipped. The template is restored with the same merge patch as a Deployment's.
"""

from __future__ import annotations

import copy
from typing import Any

from console.domain.model import Revision
from providers.base import Refused
from providers.kubernetes.objects import meta
from providers.kubernetes.rollout import merge_diff, owned_by, revision, with_precondition


def number(record: dict[str, Any]) -> int:
    try:
        return int(record.get("revision") or 0)
    except (TypeError, ValueError):
        return 0


def owned(obj: dict[str, Any], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ControllerRevisions `obj` controls."""
    return owned_by(obj, records, str(obj.get("kind", "")))


def template_of(record: dict[str, Any]) -> dict[str, Any]:
    """The pod template a revision restores, without the patch directive."""
    data = record.get("data") or {}
    template = copy.deepcopy((data.get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return template


def history(records: list[dict[str, Any]]) -> list[Revision]:
    """Revisions newest first; the newest is current."""
    ordered = sorted(records, key=number, reverse=True)
    return [
        revision(record, number(record), template_of(record), index == 0)
        for index, record in enumerate(ordered)
    ]


def undo(
    obj: dict[str, Any], records: list[dict[str, Any]], to: int = 0
) -> tuple[dict[str, Any] | None, str]:
    """(merge patch to apply, or None when there is nothing to do; what kubectl would say)."""
    ordered = sorted(owned(obj, records), key=number)
    if to > 0:
        chosen = next((r for r in ordered if number(r) == to), None)
    else:
        chosen = ordered[-2] if len(ordered) > 1 else None
    if chosen is None:
        raise Refused(f"unable to find specified revision {to} in history")
    template = template_of(chosen)
    current = (obj.get("spec") or {}).get("template") or {}
    if template == current:
        return (
            None,
            f"skipped rollback (current template already matches revision {number(chosen)})",
        )
    patch = merge_diff({"spec": {"template": current}}, {"spec": {"template": template}})
    kind = str(obj.get("kind", "")).lower()
    return with_precondition(patch, obj), f"{kind}.apps/{meta(obj).get('name', '')} rolled back"
