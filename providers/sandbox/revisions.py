"""A target's history as people read it: revisions to roll back to, and the events
(deploys, rollbacks, restarts, scaling, pauses) the details pane lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from providers.sandbox.store import DEPLOY, PAUSE, RESTART, RESUME, ROLLBACK, SCALE
from providers.sandbox.timeline import BUILD, RELEASE, Timeline

# Like an image tag or a git ref: what a deploy accepts as a revision.
_REVISION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:+@/-]{0,127}")

_DESCRIPTION = {
    RELEASE: "release",
    BUILD: "built from main by CI",
    DEPLOY: "deployed",
    ROLLBACK: "rolled back to",
    RESTART: "restarted",
    SCALE: "scaled",
    PAUSE: "paused",
    RESUME: "resumed",
}
_REASON = {
    RELEASE: "Deployed",
    BUILD: "Deployed",
    DEPLOY: "Deployed",
    ROLLBACK: "RolledBack",
    RESTART: "Restarted",
    SCALE: "Scaled",
    PAUSE: "Paused",
    RESUME: "Resumed",
}


@dataclass(frozen=True)
class Entry:
    at: float
    kind: str
    revision: str = ""
    replicas: int = 0

    @property
    def description(self) -> str:
        return _DESCRIPTION[self.kind]

    @property
    def reason(self) -> str:
        return _REASON[self.kind]

    @property
    def summary(self) -> str:
        if self.kind == SCALE:
            return f"scaled to {self.replicas}"
        if self.kind == RESTART:
            return "restarted every replica"
        if self.kind in (PAUSE, RESUME):
            return f"rollout {self.description}"
        return f"{self.description} {self.revision}"


def valid_revision(revision: object) -> str | None:
    """Why `revision` cannot be deployed, or None: any tag-like string deploys."""
    if isinstance(revision, str) and _REVISION.fullmatch(revision):
        return None
    return (
        f"revision {revision!r} is not a tag: use letters, digits and . _ - : + @ /, "
        "at most 128 characters"
    )


def history(
    timeline: Timeline, now: float, *, distinct: bool = True, limit: int = 10
) -> list[Entry]:
    """Newest first. `distinct`: the revisions it ran, each once (what rollback offers);
    otherwise every change, restarts and scaling included (what the events list shows).
    """
    entries = [Entry(d.at, d.kind, d.revision) for d in timeline.deployments(now, 50)]
    if distinct:
        seen: set[str] = set()
        unique = []
        for entry in entries:
            if entry.revision not in seen:
                seen.add(entry.revision)
                unique.append(entry)
        return unique[:limit]
    entries += [Entry(at, RESTART) for at in timeline.restarts if at <= now]
    entries += [Entry(at, SCALE, replicas=n) for at, n in timeline.scales if at <= now]
    entries += [Entry(at, PAUSE if p else RESUME) for at, p in timeline.pauses if at <= now]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
