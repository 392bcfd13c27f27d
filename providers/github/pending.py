"""A waiting run's pending deployment as a Quorum `ProviderApproval`.

The shape is `GET .../actions/runs/{run}/pending_deployments`: per environment its
id and name, the wait timer, whether these credentials may approve, and the
required reviewers. The id is what `quorum vote` takes: `PROVIDER:RUN/ENVIRONMENT`.
"""

from __future__ import annotations

from typing import Any

from console.domain.model import ProviderApproval
from providers.ci.times import parse_time
from providers.github.settings import Settings


def approval_of(
    provider: str, config: Settings, repo: str, run: dict[str, Any], item: dict[str, Any]
) -> ProviderApproval:
    env = item.get("environment") or {}
    reviewers = [
        (r.get("reviewer") or {}).get("login") or (r.get("reviewer") or {}).get("name") or "?"
        for r in item.get("reviewers") or []
    ]
    notes = []
    if reviewers:
        notes.append("reviewers: " + ", ".join(reviewers))
    if item.get("wait_timer"):
        notes.append(f"wait timer {item['wait_timer']}m")
    if item.get("current_user_can_approve") is False:
        notes.append("this token may not approve")
    actor = (run.get("triggering_actor") or run.get("actor") or {}).get("login", "")
    return ProviderApproval(
        provider=provider,
        id=f"{provider}:{run['id']}/{env.get('name', '')}",
        title=(
            f"{run.get('name', 'run')} #{run.get('run_number', '?')} "
            f"({str(run.get('head_sha', ''))[:7]} on {run.get('head_branch', '?')}) "
            f"waits for {env.get('name', '?')}"
        ),
        environment=config.quorum_environment(str(env.get("name", ""))),
        url=str(run.get("html_url") or ""),
        requested_at=parse_time(item.get("wait_timer_started_at"))
        or parse_time(run.get("created_at")),
        service=config.service_of(repo),
        requested_by=actor,
        detail="; ".join(notes),
    )
