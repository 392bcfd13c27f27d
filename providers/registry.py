"""Finds provider classes by kind through the `quorum.providers` entry-point group.

Only the kinds a config names are imported, so a console without AWS never pays
for boto3; a kind that fails to import is reported as broken with its reason and
the rest of the console carries on.

Quorum's own kinds are registered in the group too, but found through `BUILTIN`
first: reading the group means importing `importlib.metadata` and every installed
package's metadata (about 20 ms, a sixth of what start-up adds to Textual's own),
which a config naming only built-in kinds never needs. A test keeps `BUILTIN` and
pyproject.toml's entry points the same.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from providers.base import Provider, ProviderContext

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

GROUP = "quorum.providers"
BUILTIN = {
    "sandbox": "providers.sandbox:SandboxProvider",
    "sandbox-watch": "providers.sandbox:SandboxWatchProvider",
    "kubernetes": "providers.kubernetes:KubernetesProvider",
    "ecs": "providers.aws:EcsProvider",
    "static-site": "providers.aws:StaticSiteProvider",
    "github": "providers.github:GitHubProvider",
    "gitlab": "providers.gitlab:GitLabProvider",
    "vercel": "providers.vercel:VercelProvider",
    "netlify": "providers.netlify:NetlifyProvider",
    "cloudflare": "providers.cloudflare:CloudflareProvider",
    "alertmanager": "providers.alertmanager:AlertmanagerProvider",
    "health": "providers.health:HealthProvider",
    "prometheus": "providers.prometheus:PrometheusProvider",
}


class ProviderLoadError(Exception):
    """A provider kind that is unknown or whose module failed to import."""


@dataclass(frozen=True)
class BrokenProvider:
    """A configured provider that could not be built, and why (one line)."""

    name: str
    kind: str
    reason: str


def _group() -> tuple[EntryPoint, ...]:
    """The group's entry points, read once per search path: a scan reads every
    installed package's metadata, and a config names several providers."""
    return _scan(tuple(sys.path))


@cache
def _scan(path: tuple[str, ...]) -> tuple[EntryPoint, ...]:
    """`path` is only the cache key: `entry_points` reads `sys.path` itself."""
    from importlib.metadata import entry_points

    return tuple(entry_points(group=GROUP))


def available_kinds() -> list[str]:
    return sorted(set(BUILTIN) | {ep.name for ep in _group()})


def is_known(kind: str) -> bool:
    """Whether `kind` names a provider, reading the entry points only for a third party's."""
    return kind in BUILTIN or any(ep.name == kind for ep in _group())


def _load(kind: str) -> object:
    if kind in BUILTIN:
        module, _, attr = BUILTIN[kind].partition(":")
        return getattr(importlib.import_module(module), attr)
    matches = [ep for ep in _group() if ep.name == kind]
    if not matches:
        known = ", ".join(available_kinds()) or "none installed"
        raise ProviderLoadError(f"unknown provider kind {kind!r} (known: {known})")
    return matches[0].load()


def load_provider_class(kind: str) -> type[Provider]:
    try:
        cls = _load(kind)
    except ProviderLoadError:
        raise
    except Exception as exc:  # a third-party plugin may fail in any way
        raise ProviderLoadError(f"provider kind {kind!r} failed to import: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise ProviderLoadError(f"provider kind {kind!r} does not name a Provider class")
    return cls


def build_provider(
    name: str, kind: str, settings: dict, context: ProviderContext
) -> Provider | BrokenProvider:
    """A ready provider, or a BrokenProvider saying why not; never raises.

    The settings were checked once, when the config was read (`console.config`), so
    they are not checked again at every start.
    """
    try:
        cls = load_provider_class(kind)
    except ProviderLoadError as exc:
        return BrokenProvider(name, kind, str(exc))
    try:
        return cls(name, settings, context)
    except Exception as exc:
        return BrokenProvider(name, kind, f"could not start: {exc}")
