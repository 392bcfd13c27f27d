"""The settings of one `kind = "health"` block: which services answer where, how often
and how patiently they are probed, and how many probes may be open at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from providers.base import Setting

CHECKS = ("health", "ready", "metrics")
DEFAULT_PATHS = {"health": "/health", "ready": "/ready", "metrics": "/metrics"}
MAX_CONNECTIONS = 1000

DECLARED = (
    Setting("urls", "table", None, "service = its base URL", required=True),
    Setting("canaries", "table", None, "service = the base URL of its canary"),
    Setting("environment", "string", "production", "the environment the services run in"),
    Setting("interval", "number", 30.0, "seconds between probe cycles"),
    Setting("timeout", "number", 5.0, "seconds one probe may take, connect to last byte"),
    Setting("max_connections", "integer", 32, "probes (sockets) open at once"),
    Setting("paths", "table", None, 'health/ready/metrics = path; "" skips that probe'),
    Setting("requests_metric", "string", "http_requests_total", "counter labelled by status"),
    Setting("latency_metric", "string", "http_request_duration_seconds", "latency histogram"),
)


@dataclass(frozen=True)
class Settings:
    urls: dict[str, str]  # service -> base URL, without a trailing slash
    environment: str = "production"
    interval: float = 30.0
    timeout: float = 5.0
    # The semaphore and the connection pool both hold this many, so no more sockets
    # are open at once whatever the number of services.
    max_connections: int = 32
    paths: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PATHS))
    requests_metric: str = "http_requests_total"
    latency_metric: str = "http_request_duration_seconds"
    # service -> the base URL of a canary (a second revision taking part of its traffic)
    canaries: dict[str, str] = field(default_factory=dict)


def check(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Problems beyond the declared types as (key, message); never echoes a URL."""
    problems: list[tuple[str, str]] = []
    urls = settings.get("urls")
    if isinstance(urls, Mapping):
        if not urls:
            problems.append(("urls", 'name at least one service: { api = "https://..." }'))
        for service, url in urls.items():
            if not isinstance(url, str) or not _http_url(url):
                problems.append(("urls", f"{service}: expected an http:// or https:// URL"))
            elif urlsplit(url).username or urlsplit(url).password:
                problems.append(("urls", f"{service}: a URL must not carry credentials"))
    canaries = settings.get("canaries")
    if isinstance(canaries, Mapping):
        for service, url in canaries.items():
            if not isinstance(urls, Mapping) or service not in urls:
                problems.append(("canaries", f"{service}: not a service of urls"))
            elif not isinstance(url, str) or not _http_url(url):
                problems.append(("canaries", f"{service}: expected an http:// or https:// URL"))
            elif urlsplit(url).username or urlsplit(url).password:
                problems.append(("canaries", f"{service}: a URL must not carry credentials"))
    for key, least, most in (("interval", 1.0, 86400.0), ("timeout", 0.1, 60.0)):
        value = settings.get(key)
        if _number(value) and not least <= value <= most:
            problems.append((key, f"must be between {least:g} and {most:g} seconds"))
    count = settings.get("max_connections")
    if isinstance(count, int) and not isinstance(count, bool) and not 1 <= count <= MAX_CONNECTIONS:
        problems.append(("max_connections", f"must be between 1 and {MAX_CONNECTIONS}"))
    paths = settings.get("paths")
    if isinstance(paths, Mapping):
        for name, path in paths.items():
            if name not in CHECKS:
                problems.append(("paths", f"unknown probe {name!r} (known: {', '.join(CHECKS)})"))
            elif not isinstance(path, str) or (path and not path.startswith("/")):
                problems.append(("paths", f'{name}: expected a path starting with /, or ""'))
    return problems


def _http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse(settings: Mapping[str, Any]) -> Settings:
    """Settings from a checked mapping (see `check`)."""
    paths = {**DEFAULT_PATHS, **dict(settings.get("paths") or {})}
    return Settings(
        urls={service: url.rstrip("/") for service, url in settings["urls"].items()},
        environment=settings.get("environment") or "production",
        interval=float(settings.get("interval", 30.0)),
        timeout=float(settings.get("timeout", 5.0)),
        max_connections=int(settings.get("max_connections", 32)),
        paths={name: path for name, path in paths.items() if path},
        requests_metric=settings.get("requests_metric") or "http_requests_total",
        latency_metric=settings.get("latency_metric") or "http_request_duration_seconds",
        canaries={s: url.rstrip("/") for s, url in (settings.get("canaries") or {}).items()},
    )
