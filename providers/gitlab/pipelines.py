"""GitLab pipelines, jobs and deployments as Quorum's model."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from console.domain.model import EventInfo, PodInfo, RolloutStatus, Target, TargetRef
from providers.ci.times import parse_time, took

_RUNNING = frozenset(
    {"created", "waiting_for_resource", "preparing", "pending", "running", "scheduled"}
)
ACTIVE_JOB = frozenset({"created", "waiting_for_resource", "preparing", "pending", "running"})


def status_of(status: str) -> RolloutStatus:
    """Pipeline and deployment statuses alike (a blocked deployment waits for approval)."""
    if status == "success":
        return RolloutStatus.READY
    if status == "failed":
        return RolloutStatus.FAILED
    if status in ("canceled", "skipped"):
        return RolloutStatus.DEGRADED
    if status in ("manual", "blocked"):
        return RolloutStatus.PAUSED
    if status in _RUNNING:
        return RolloutStatus.PROGRESSING
    return RolloutStatus.UNKNOWN


def failing_job(jobs: list[dict[str, Any]]) -> str:
    for job in jobs:
        if job.get("status") == "failed" and not job.get("allow_failure"):
            return f"job {job.get('name', '?')} (stage {job.get('stage', '?')})"
    return ""


def pipeline_target(ref: TargetRef, pipeline: dict[str, Any], failing: str = "") -> Target:
    status = str(pipeline.get("status", ""))
    user = (pipeline.get("user") or {}).get("username", "")
    parts = [f"pipeline {pipeline.get('id', '?')} {status}"]
    if user:
        parts.append(f"{pipeline.get('source', 'run')} by {user}")
    if pipeline.get("ref"):
        parts.append(f"on {pipeline['ref']}")
    if duration := took(
        parse_time(pipeline.get("created_at")), parse_time(pipeline.get("updated_at"))
    ):
        parts.append(duration)
    if failing:
        parts.append(f"failed at {failing}")
    return Target(
        ref=ref,
        revision=str(pipeline.get("sha") or "")[:8],
        status=status_of(status),
        updated_at=parse_time(pipeline.get("updated_at")),
        message=" · ".join(parts),
    )


def deployment_target(ref: TargetRef, deployment: dict[str, Any]) -> Target:
    status = str(deployment.get("status", ""))
    user = (deployment.get("user") or {}).get("username", "")
    job = deployment.get("deployable") or {}
    parts = [f"deployment {deployment.get('iid', deployment.get('id', '?'))} {status}"]
    if user:
        parts.append(f"by {user}")
    if deployment.get("ref"):
        parts.append(f"of {deployment['ref']}")
    if job.get("name"):
        parts.append(f"job {job['name']} ({job.get('status', '?')})")
    if status == "blocked":
        parts.append(f"{deployment.get('pending_approval_count', '?')} approval(s) pending")
    return Target(
        ref=ref,
        revision=str(deployment.get("sha") or "")[:8],
        status=status_of(status),
        updated_at=parse_time(deployment.get("updated_at")),
        message=" · ".join(parts),
    )


def job_info(job: dict[str, Any]) -> PodInfo:
    return PodInfo(
        name=str(job.get("name", "")),
        phase=str(job.get("status", "")),
        ready=job.get("status") == "success",
        reason=f"stage {job.get('stage', '?')}"
        + (" · manual" if job.get("status") == "manual" else ""),
        node=str((job.get("runner") or {}).get("description") or ""),
        started_at=parse_time(job.get("started_at")),
    )


def approval_rules(deployment: dict[str, Any]) -> str:
    """`2 of 3 approvals (rule maintainers 1/2)`: what GitLab still waits for."""
    summary = deployment.get("approval_summary") or {}
    rules = summary.get("rules") or []
    given = len(deployment.get("approvals") or [])
    parts = [f"{given} approval(s), {deployment.get('pending_approval_count', 0)} pending"]
    for rule in rules:
        name = (
            rule.get("user_type")
            or rule.get("group_name")
            or rule.get("access_level_description")
            or "rule"
        )
        have = len(rule.get("deployment_approvals") or [])
        parts.append(f"{name} {have}/{rule.get('required_approvals', '?')}")
    return "; ".join(parts)


def deployment_event(deployment: dict[str, Any]) -> EventInfo:
    status = str(deployment.get("status", ""))
    return EventInfo(
        at=parse_time(deployment.get("updated_at")),
        type="Warning" if status in ("failed", "canceled") else "Normal",
        reason=status,
        message=f"deployment {deployment.get('id')} of {deployment.get('sha', '')}: "
        + approval_rules(deployment),
        source=f"deployment/{deployment.get('id')}",
    )


def pages_target(ref: TargetRef, pages: dict[str, Any] | None) -> Target:
    """A project's GitLab Pages as a read-only row: where it is served and when it was
    last deployed (`GET /projects/:id/pages`); None when Pages is not deployed."""
    if pages is None:
        return Target(ref, "", RolloutStatus.UNKNOWN, message="GitLab Pages not deployed")
    deployments = [d for d in pages.get("deployments") or [] if isinstance(d, dict)]
    times = [t for d in deployments if (t := parse_time(d.get("created_at")))]
    last = max(times, default=None)
    parts = [f"Pages at {pages.get('url') or '?'}"]
    if last is not None:
        parts.append(f"last deploy {last:%Y-%m-%d %H:%M} UTC")
    prefixes = [str(d.get("path_prefix")) for d in deployments if d.get("path_prefix")]
    if prefixes:
        parts.append("also under " + ", ".join(prefixes))
    host = urlsplit(str(pages.get("url") or "")).hostname
    return Target(
        ref=ref,
        revision="",
        status=RolloutStatus.READY if deployments else RolloutStatus.UNKNOWN,
        updated_at=last,
        message=" · ".join(parts) if deployments else "GitLab Pages has no deployment",
        hosts=(host.lower(),) if host else (),
    )
