"""ECS services reduced to Quorum's rollout statuses: pure functions of API documents.

The mapping (also in the README): the PRIMARY deployment's `rolloutState` decides.
IN_PROGRESS is progressing, or degraded and named "stuck" once it has not moved for
`stuck_after`; FAILED (the circuit breaker's verdict among others) is failed with
ECS's reason, also while the breaker's rollback runs; COMPLETED, or no rollout
state at all (services from before rollout states, external controllers), is ready
when the running count reaches the desired count and degraded below it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from console.domain.model import RolloutStatus

BREAKER_WORDS = "circuit breaker"


def short_task_definition(arn: str) -> str:
    """`family:revision` from a task definition ARN (or what is already short)."""
    return arn.rpartition("task-definition/")[2] or arn


def name_of(arn: str) -> str:
    """The last path segment of an ECS ARN (service, cluster, task id)."""
    return arn.rpartition("/")[2] or arn


def as_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return None


def primary(service: Mapping[str, Any]) -> dict[str, Any]:
    for deployment in service.get("deployments") or ():
        if deployment.get("status") == "PRIMARY":
            return deployment
    return {}


def breaker(service: Mapping[str, Any]) -> dict[str, bool]:
    """The deployment circuit breaker's settings ({} when the service has none)."""
    config = (service.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker")
    return dict(config) if isinstance(config, Mapping) else {}


def breaker_fired(service: Mapping[str, Any]) -> dict[str, Any] | None:
    """The deployment the circuit breaker failed, if it did (newest first)."""
    for deployment in service.get("deployments") or ():
        reason = str(deployment.get("rolloutStateReason") or "")
        if deployment.get("rolloutState") == "FAILED" and BREAKER_WORDS in reason.lower():
            return deployment
    return None


def status_of(
    service: Mapping[str, Any], now: datetime, stuck_after: float
) -> tuple[RolloutStatus, str]:
    """The status of one described service and the line that explains it."""
    if service.get("status") in ("DRAINING", "INACTIVE"):
        return RolloutStatus.UNKNOWN, f"service {str(service.get('status')).lower()}"
    main = primary(service)
    desired = int(service.get("desiredCount") or 0)
    running = int(service.get("runningCount") or 0)
    state = main.get("rolloutState")
    fired = breaker_fired(service)
    if state == "FAILED" or fired is not None:
        failed = fired or main
        why = str(failed.get("rolloutStateReason") or "deployment failed")
        td = short_task_definition(str(failed.get("taskDefinition") or ""))
        if fired is not None and fired is not main:
            back = short_task_definition(str(main.get("taskDefinition") or ""))
            return (
                RolloutStatus.FAILED,
                f"{td} failed: {why}; circuit breaker rolled back to {back}",
            )
        return RolloutStatus.FAILED, f"{td} failed: {why}"
    if state == "IN_PROGRESS":
        since = as_time(main.get("updatedAt")) or as_time(main.get("createdAt"))
        failed_tasks = int(main.get("failedTasks") or 0)
        progress = f"{main.get('runningCount', 0)}/{main.get('desiredCount', 0)} running"
        if failed_tasks:
            progress += f", {failed_tasks} failed tasks"
        if since is not None and (now - since).total_seconds() > stuck_after:
            minutes = int((now - since).total_seconds() // 60)
            ident = main.get("id") or "deployment"
            return RolloutStatus.DEGRADED, f"{ident} stuck for {minutes}m: {progress}"
        return RolloutStatus.PROGRESSING, progress
    if len(service.get("deployments") or ()) > 1:
        return RolloutStatus.PROGRESSING, "older deployments draining"
    if running < desired:
        return RolloutStatus.DEGRADED, f"{running}/{desired} tasks running"
    return RolloutStatus.READY, ""


def updated_at(service: Mapping[str, Any]) -> datetime | None:
    main = primary(service)
    return as_time(main.get("updatedAt")) or as_time(main.get("createdAt"))


def target_groups(service: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(
        lb["targetGroupArn"]
        for lb in service.get("loadBalancers") or ()
        if isinstance(lb, Mapping) and lb.get("targetGroupArn")
    )
