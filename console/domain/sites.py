"""One site served by several platforms behind one front, as one row.

A front (a Cloudflare load balancer) reports its origins as `Route`s with the pool
that serves now; each site platform (Vercel, Netlify, GitLab Pages, S3+CloudFront)
reports the hosts it answers at. A platform whose host is one of a front's origins
serves that front's site, so the front's row absorbs it, and the row then answers
"is the site up, and from where" in one glance: each platform's state and which one
serves now. Pure functions over targets; the console maps the result to its rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from console.domain.model import RolloutStatus, Route, Target

# Worst first, as the Services pane sorts: the site's status is the worse of the
# front's and the serving platform's.
_WORST = (
    RolloutStatus.FAILED,
    RolloutStatus.DEGRADED,
    RolloutStatus.PROGRESSING,
    RolloutStatus.PAUSED,
    RolloutStatus.UNKNOWN,
    RolloutStatus.READY,
)


def host_of(address: str) -> str:
    """`https://Site.Example.org:443/x` → `site.example.org`: what hosts are compared by."""
    text = address.strip()
    if not text:
        return ""
    netloc = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    return netloc.rstrip(".").lower()


def provider_label(front: str, serving: str, platforms: int) -> str:
    """A site's PROVIDER: the platform that serves and how many stand by (`vercel+2`),
    or the front's provider when none of them serves. Which one serves is what matters
    at a glance; the Services pane and `quorum status` both say it this way."""
    if not serving:
        return front
    more = platforms - 1
    return serving + (f"+{more}" if more else "")


@dataclass(frozen=True)
class Platform:
    """One platform's row inside a site, and whether the front sends traffic to it."""

    target: Target
    route: Route

    @property
    def serving(self) -> bool:
        return self.route.serving

    def line(self) -> str:
        """`netlify ready 66ab12` (+ `disabled`/`unhealthy at the front`)."""
        t = self.target
        words = [t.ref.provider, str(t.status)]
        if t.revision:
            words.append(t.revision[:12])
        if not self.route.enabled:
            words.append("(disabled at the front)")
        elif self.route.healthy is False:
            words.append("(unhealthy at the front)")
        return " ".join(words)


@dataclass(frozen=True)
class Site:
    """A front and the platforms behind it, the serving ones first."""

    front: Target
    platforms: tuple[Platform, ...]

    @property
    def live(self) -> Platform | None:
        return next((p for p in self.platforms if p.serving), None)

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys of the rows the site stands for: the front's, then each platform's."""
        return (self.front.ref.key, *(p.target.ref.key for p in self.platforms))

    @property
    def serving(self) -> str:
        """The provider of the platform that serves now, or "" when none of them does."""
        live = self.live
        return live.target.ref.provider if live else ""

    def label(self) -> str:
        """What PROVIDER says for the site (see `provider_label`)."""
        return provider_label(self.front.ref.provider, self.serving, len(self.platforms))

    @property
    def providers(self) -> tuple[str, ...]:
        """The platforms' provider names, the serving one first."""
        return tuple(p.target.ref.provider for p in self.platforms)

    def status(self) -> RolloutStatus:
        live = self.live
        if live is None:
            return self.front.status
        return min(self.front.status, live.target.status, key=_WORST.index)

    def message(self) -> str:
        live = self.live
        if live is not None:
            parts = [f"serving {live.line()}"]
        else:
            elsewhere = [r.host for r in self.front.routes if r.serving]
            parts = [f"serving {', '.join(elsewhere)} (no platform listed here)"
                     if elsewhere else "no origin serves"]  # fmt: skip
        standby = [p.line() for p in self.platforms if not p.serving]
        if standby:
            parts.append("standby " + ", ".join(standby))
        parts.append(f"via {self.front.ref.provider}: {self.front.message}")
        return " · ".join(parts)

    def row(self) -> Target:
        """The site as one row under the front's key, so the front's actions (a
        failover) stay on it: the serving platform's revision, age and figures, how many
        platforms are ready, and every platform's state in the message."""
        live = self.live
        shown = live.target if live else self.front
        return replace(
            self.front,
            revision=shown.revision,
            status=self.status(),
            ready=sum(1 for p in self.platforms if p.target.status is RolloutStatus.READY),
            desired=len(self.platforms),
            updated_at=shown.updated_at or self.front.updated_at,
            message=self.message(),
            metrics=dict(shown.metrics),
            alarms=tuple(a for p in self.platforms for a in p.target.alarms),
        )


def merge_sites(targets: Sequence[Target]) -> tuple[list[Site], set[str]]:
    """The sites the fronts among `targets` make, and the keys of the platform rows they
    absorbed (which then show only inside their site).

    A platform joins the first front that routes to one of its hosts; a front that
    routes to none of the targets stays a row of its own."""
    by_host: dict[str, list[Target]] = {}
    for target in targets:
        if target.routes:
            continue
        for host in {host_of(h) for h in target.hosts} - {""}:
            by_host.setdefault(host, []).append(target)
    sites: list[Site] = []
    taken: set[str] = set()
    for front in targets:
        if not front.routes:
            continue
        platforms: dict[str, Platform] = {}
        for route in _serving_first(front.routes):
            for member in by_host.get(host_of(route.host), ()):
                key = member.ref.key
                if key not in taken and key not in platforms:
                    platforms[key] = Platform(member, route)
        if platforms:
            taken.update(platforms)
            sites.append(Site(front, tuple(platforms.values())))
    return sites, taken


def fold_sites(targets: Sequence[Target]) -> list[tuple[Target, Site | None]]:
    """`targets` as the rows to show, in their order: a front that some platforms serve
    becomes its site's row (the site beside it), the platforms it absorbed are left out,
    every other target stays as it is. The Services pane and `quorum status` both show
    these rows, so the two fold a site the same way."""
    sites, absorbed = merge_sites(targets)
    by_front = {site.front.ref.key: site for site in sites}
    rows: list[tuple[Target, Site | None]] = []
    for target in targets:
        key = target.ref.key
        if key in absorbed:
            continue
        site = by_front.get(key)
        rows.append((site.row(), site) if site else (target, None))
    return rows


def _serving_first(routes: Iterable[Route]) -> list[Route]:
    return sorted(routes, key=lambda r: (not r.serving, not r.enabled, r.healthy is False))
