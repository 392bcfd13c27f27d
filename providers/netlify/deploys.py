"""Netlify deploys as Quorum's model.

A deploy's `state` runs new, enqueued, building, uploading, uploaded, preparing,
prepared, processing, processed, then ready or error (rejected, retrying and
pending_review on the way); `published_at` is set on the deploy that went live.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from console.domain.model import RolloutStatus, Target, TargetRef
from providers.ci.times import parse_time

READY = "ready"
FAILED = frozenset({"error", "rejected"})


def status_of(state: str) -> RolloutStatus:
    if state == READY:
        return RolloutStatus.READY
    if state in FAILED:
        return RolloutStatus.FAILED
    if state in ("", "skipped"):
        return RolloutStatus.UNKNOWN
    return RolloutStatus.PROGRESSING


def describe(deploy: dict[str, Any]) -> str:
    """`6650c0ff ready · main@a1b2c3d4 "Fix the nav"`: one deploy in a line."""
    parts = [f"{deploy.get('id', '?')} {deploy.get('state', '?')}"]
    commit = str(deploy.get("commit_ref") or "")[:8]
    where = "@".join(x for x in (str(deploy.get("branch") or ""), commit) if x)
    title = (str(deploy.get("title") or "").splitlines() or [""])[0]
    if where:
        parts.append(f'{where} "{title}"' if title else where)
    if deploy.get("error_message"):
        parts.append(str(deploy["error_message"]))
    return " · ".join(parts)


def production(deploys: list[Any]) -> list[dict[str, Any]]:
    """The production deploys, newest first (branch deploys and previews are left out)."""
    chosen = [d for d in deploys if isinstance(d, dict) and d.get("context") == "production"]
    return sorted(chosen, key=lambda d: str(d.get("created_at") or ""), reverse=True)


def matches(deploy: dict[str, Any], wanted: str) -> bool:
    """Whether `wanted` is this deploy's id or a commit sha prefix (7 or more)."""
    sha = str(deploy.get("commit_ref") or "")
    return wanted == deploy.get("id") or bool(sha and len(wanted) >= 7 and sha.startswith(wanted))


def target_of(
    ref: TargetRef, published: dict[str, Any] | None, newest: dict[str, Any] | None
) -> Target:
    """A site's row: the published deploy, and the newest one when it is another.

    Locked auto-publishing (the brake) shows as paused; a newer deploy that builds or
    failed sets the status while the published one still serves."""
    shown = published or newest or {}
    parts = [f"published {describe(published)}" if published else "nothing published yet"]
    status = status_of(str(shown.get("state") or ""))
    if published and published.get("locked"):
        parts.append("auto-publishing locked")
        status = RolloutStatus.PAUSED
    if newest and (published is None or newest.get("id") != published.get("id")):
        parts.append(f"newest {describe(newest)}")
        state = str(newest.get("state") or "")
        if state != READY and status is not RolloutStatus.PAUSED:
            status = status_of(state)
        elif state == READY and published and not published.get("locked"):
            parts.append("not published")
    return Target(
        ref=ref,
        revision=str(shown.get("id") or ""),
        status=status,
        updated_at=parse_time(shown.get("published_at") or shown.get("created_at")),
        message=" · ".join(parts),
    )


def hosts_of(site: dict[str, Any]) -> tuple[str, ...]:
    """Where a site answers (its Netlify name, custom domain and aliases), so a load
    balancer in front of it is matched to it."""
    found = [site.get("custom_domain"), *(site.get("domain_aliases") or [])]
    found += [urlsplit(str(site.get(k) or "")).hostname for k in ("ssl_url", "url")]
    if site.get("name"):
        found.append(f"{site['name']}.netlify.app")
    return tuple(dict.fromkeys(str(h).lower() for h in found if isinstance(h, str) and h))
