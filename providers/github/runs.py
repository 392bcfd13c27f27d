"""GitHub workflow runs and jobs as Quorum's model: what a row and the details pane say.

Pure functions over the JSON of `GET .../actions/workflows/{id}/runs` and
`GET .../actions/runs/{id}/jobs`, so the mapping is read in one place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from console.domain.model import EventInfo, PodInfo, RolloutStatus, Target, TargetRef, utcnow
from providers.ci.times import parse_time, took

FAILED = frozenset({"failure", "timed_out", "startup_failure", "action_required"})
GOOD = frozenset({"success", "neutral", "skipped"})


def status_of(run: dict[str, Any]) -> RolloutStatus:
    if run.get("status") != "completed":
        return RolloutStatus.PROGRESSING
    conclusion = run.get("conclusion")
    if conclusion in GOOD:
        return RolloutStatus.READY
    if conclusion in FAILED:
        return RolloutStatus.FAILED
    if conclusion == "cancelled":
        return RolloutStatus.DEGRADED
    return RolloutStatus.UNKNOWN


def duration(run: dict[str, Any], now: datetime | None = None) -> str:
    start = parse_time(run.get("run_started_at")) or parse_time(run.get("created_at"))
    end = (
        parse_time(run.get("updated_at")) if run.get("status") == "completed" else (now or utcnow())
    )
    return took(start, end)


def failing_step(jobs: list[dict[str, Any]]) -> str:
    """`job build, step Run tests` for the first failed job; "" when none failed."""
    for job in jobs:
        if job.get("conclusion") in FAILED:
            step = next(
                (
                    s.get("name", "")
                    for s in job.get("steps") or []
                    if s.get("conclusion") in FAILED
                ),
                "",
            )
            return f"job {job.get('name', '?')}" + (f", step {step}" if step else "")
    return ""


def describe(run: dict[str, Any], failing: str = "") -> str:
    """One line: number, state, trigger, actor, branch, duration, failing job and step."""
    state = run.get("conclusion") or run.get("status") or "unknown"
    if run.get("status") == "waiting":
        state = "waiting for approval"
    actor = (run.get("triggering_actor") or run.get("actor") or {}).get("login", "")
    parts = [f"#{run.get('run_number', '?')} {state}"]
    if actor:
        parts.append(f"{run.get('event', 'run')} by {actor}")
    if run.get("head_branch"):
        parts.append(f"on {run['head_branch']}")
    if took_text := duration(run):
        parts.append(took_text)
    if failing:
        parts.append(f"failed at {failing}")
    return " · ".join(parts)


def target_of(ref: TargetRef, run: dict[str, Any], failing: str = "") -> Target:
    return Target(
        ref=ref,
        revision=str(run.get("head_sha") or "")[:7],
        status=status_of(run),
        updated_at=parse_time(run.get("updated_at")),
        message=describe(run, failing),
    )


def job_info(job: dict[str, Any]) -> PodInfo:
    """A job as a row of the details pane (the jobs are what runs, like a target's pods)."""
    failed = next(
        (s.get("name", "") for s in job.get("steps") or [] if s.get("conclusion") in FAILED), ""
    )
    return PodInfo(
        name=str(job.get("name", "")),
        phase=str(job.get("conclusion") or job.get("status") or ""),
        ready=job.get("conclusion") in GOOD,
        reason=f"step {failed} failed" if failed else "",
        node=str(job.get("runner_name") or ""),
        started_at=parse_time(job.get("started_at")),
    )


def run_event(run: dict[str, Any], failing: str) -> EventInfo:
    bad = status_of(run) in (RolloutStatus.FAILED, RolloutStatus.DEGRADED)
    return EventInfo(
        at=parse_time(run.get("updated_at")),
        type="Warning" if bad else "Normal",
        reason=str(run.get("conclusion") or run.get("status") or ""),
        message=f"{run.get('name', 'run')} {describe(run, failing)} ({run.get('head_sha', '')})",
        source=f"run/{run.get('id', '')}",
    )
