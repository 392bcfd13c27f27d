"""Vercel deployments and build events as Quorum's model.

A deployment's `state` (`readyState` in newer answers) is one of QUEUED,
INITIALIZING, BUILDING, READY, ERROR, CANCELED; its times are epoch milliseconds.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from console.domain.model import LogLine, RolloutStatus, Target, TargetRef

BUILDING = frozenset({"QUEUED", "INITIALIZING", "BUILDING"})
# How a stderr line is marked in the log text, so the CI log helpers give it the error
# level (they read GitHub's `##[error]`); `unmark` takes it off again.
ERROR_MARK = "##[error]"
READY = "READY"


def state_of(deployment: dict[str, Any]) -> str:
    return str(deployment.get("readyState") or deployment.get("state") or "")


def status_of(state: str) -> RolloutStatus:
    if state == READY:
        return RolloutStatus.READY
    if state == "ERROR":
        return RolloutStatus.FAILED
    if state == "CANCELED":
        return RolloutStatus.DEGRADED
    if state in BUILDING:
        return RolloutStatus.PROGRESSING
    return RolloutStatus.UNKNOWN


def ms_time(value: object) -> datetime | None:
    """Vercel's epoch milliseconds as a time; None when absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return datetime.fromtimestamp(value / 1000, UTC)


def created_at(deployment: dict[str, Any]) -> datetime | None:
    return ms_time(deployment.get("created") or deployment.get("createdAt"))


def deployment_id(deployment: dict[str, Any]) -> str:
    return str(deployment.get("uid") or deployment.get("id") or "")


def commit_of(deployment: dict[str, Any]) -> tuple[str, str]:
    """(sha, first line of the message) of the commit a deployment was built from."""
    meta = deployment.get("meta") or {}
    sha = ""
    message = ""
    for forge in ("github", "gitlab", "bitbucket"):
        sha = sha or str(meta.get(f"{forge}CommitSha") or "")
        message = message or str(meta.get(f"{forge}CommitMessage") or "")
    return sha, (message.splitlines() or [""])[0]


def creator_of(deployment: dict[str, Any]) -> str:
    creator = deployment.get("creator") or {}
    return str(creator.get("username") or creator.get("githubLogin") or creator.get("email") or "")


def describe(deployment: dict[str, Any]) -> str:
    """`dpl_1 READY · by dana · a1b2c3d4 "Fix the nav"`: one deployment in a line."""
    parts = [f"{deployment_id(deployment)} {state_of(deployment)}"]
    if creator := creator_of(deployment):
        parts.append(f"by {creator}")
    sha, message = commit_of(deployment)
    if sha:
        parts.append(f'{sha[:8]} "{message}"' if message else sha[:8])
    return " · ".join(parts)


def matches(deployment: dict[str, Any], wanted: str) -> bool:
    """Whether `wanted` names this deployment: its id, its URL, or a commit sha prefix."""
    url = str(deployment.get("url") or "")
    sha, _ = commit_of(deployment)
    return wanted in (deployment_id(deployment), url, f"https://{url}") or bool(
        sha and len(wanted) >= 7 and sha.startswith(wanted)
    )


def target_of(ref: TargetRef, newest: dict[str, Any], live: dict[str, Any] | None) -> Target:
    """A target's row: what serves it (`live`, production only) and the newest deployment.

    The newest deployment's state is the row's status while it builds or when it
    failed; otherwise the row is the live deployment's.
    """
    shown = live or newest
    state = state_of(newest)
    parts = []
    if live is not None:
        parts.append(f"live {describe(live)}")
        if deployment_id(live) != deployment_id(newest):
            parts.append(f"newest {describe(newest)}")
            if state == READY:
                parts.append("not promoted (rolled back: promote to go forward)")
    else:
        parts.append(describe(newest))
    status = status_of(state) if state != READY or live is None else status_of(state_of(live))
    return Target(
        ref=ref,
        revision=deployment_id(shown),
        status=status,
        updated_at=created_at(shown),
        message=" · ".join(parts),
    )


def event_text(events: list[Any]) -> str:
    """Build events as log text, each line stamped with its time as CI logs are, so
    the CI log helpers can cut it by `--since` and `--tail` and follow it."""
    lines: list[str] = []
    for event in events:
        if not isinstance(event, dict):
            continue
        payload = event.get("payload") if isinstance(event.get("payload"), dict) else {}
        text = payload.get("text", event.get("text"))
        if not isinstance(text, str) or not text:
            continue
        at = ms_time(payload.get("date") or event.get("created") or event.get("date"))
        stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ") + " " if at else ""
        mark = ERROR_MARK if event.get("type") == "stderr" else ""
        lines += [stamp + mark + line for line in text.splitlines()]
    return "\n".join(lines)


def unmark(line: LogLine) -> LogLine:
    """A line without the stderr mark `event_text` put on it (its level stays)."""
    if line.text.startswith(ERROR_MARK):
        return replace(line, text=line.text.removeprefix(ERROR_MARK))
    return line
