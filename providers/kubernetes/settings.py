"""The settings of one Kubernetes provider, validated before anything connects.

A provider is one kubeconfig context (or the in-cluster service account), so a
console can show several clusters side by side, each under its own name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.domain.inert import echo
from providers.base import Setting

DEFAULT_LABEL = "app.kubernetes.io/name"
WORKLOAD_KINDS = ("deployment", "statefulset", "daemonset")

# What a [[providers]] block of kind "kubernetes" may say (besides name, kind,
# readonly and environments = { env = namespace }); Quorum checks the types.
DECLARED = (
    Setting("context", "string", None, "the kubeconfig context (default: its current one)"),
    Setting("kubeconfig", "string", "~/.kube/config", "the kubeconfig file"),
    Setting("in_cluster", "boolean", False, "use the pod's service account instead"),
    Setting("label", "string", DEFAULT_LABEL, "the label that names a workload's service"),
    Setting("services", "table", None, '"kind/name" = service, for unlabelled workloads'),
)


@dataclass(frozen=True)
class Settings:
    context: str | None = None
    kubeconfig: Path | None = None
    in_cluster: bool = False
    # environment -> namespace; empty means every namespace, named after itself.
    environments: dict[str, str] = field(default_factory=dict)
    label: str = DEFAULT_LABEL
    # "kind/name" -> service, for workloads whose label does not say which service they are.
    services: dict[str, str] = field(default_factory=dict)

    def environment_of(self, namespace: str) -> str | None:
        """The environment a namespace serves; None when it is not one of ours."""
        if not self.environments:
            return namespace
        for env, ns in self.environments.items():
            if ns == namespace:
                return env
        return None

    def namespace_of(self, environment: str) -> str:
        return self.environments.get(environment, environment)

    @property
    def namespaces(self) -> tuple[str, ...] | None:
        """The namespaces to watch; None watches the whole cluster."""
        if not self.environments:
            return None
        return tuple(dict.fromkeys(self.environments.values()))


def check(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The problems beyond the declared types as (key, message); empty when usable."""
    problems: list[tuple[str, str]] = []
    if settings.get("in_cluster") is True:
        for key in ("context", "kubeconfig"):
            if key in settings:
                problems.append((key, "cannot be combined with in_cluster = true"))
    kubeconfig = settings.get("kubeconfig")
    if isinstance(kubeconfig, str) and kubeconfig.strip():
        path = Path(kubeconfig).expanduser()
        if path.exists() and not path.is_file():  # a FIFO or /dev/zero would never end
            problems.append(("kubeconfig", f"not a regular file: {path}"))
        elif not path.is_file():
            problems.append(("kubeconfig", f"no such file: {path}"))
    elif settings.get("in_cluster") is not True and "kubeconfig" not in settings:
        problems += _check_default_kubeconfig()
    problems += _check_mapping(settings, "environments", "namespace")
    problems += _check_mapping(settings, "services", "service name")
    services = settings.get("services")
    if isinstance(services, Mapping):
        for workload in services:
            kind, _, name = str(workload).partition("/")
            if kind not in WORKLOAD_KINDS or not name:
                problems.append(
                    ("services", f"{_shown(workload)}write kind/name, kind one of {WORKLOAD_KINDS}")
                )
    return problems


def _check_default_kubeconfig() -> list[tuple[str, str]]:
    """Without `kubeconfig`, the client reads $KUBECONFIG (a list of files) or
    ~/.kube/config: a missing one is reported now, not when the console connects."""
    listed = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p.strip()]
    if listed:
        if any(Path(p).expanduser().is_file() for p in listed):
            return []
        return [("kubeconfig", "none of the files in $KUBECONFIG exists")]
    default = Path("~/.kube/config").expanduser()
    if default.is_file():
        return []
    return [
        (
            "kubeconfig",
            f"no kubeconfig: {default} does not exist and $KUBECONFIG is not set; "
            "set kubeconfig = PATH, or in_cluster = true inside a cluster",
        )
    ]


def _shown(value: object) -> str:
    """`'value': ` when the value may be echoed (short, not a URL or token), else nothing."""
    quoted = echo(value)
    return f"{quoted}: " if quoted else ""


def _check_mapping(settings: Mapping[str, Any], key: str, what: str) -> list[tuple[str, str]]:
    value = settings.get(key)
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [(key, f"must be a table of name = {what}")]
    return [
        (key, f"{_shown(name)}the {what} must be a non-empty string")
        for name, item in value.items()
        if not isinstance(item, str) or not item.strip()
    ]


def parse(settings: Mapping[str, Any]) -> Settings:
    """Settings from a checked mapping (see `check`)."""
    kubeconfig = settings.get("kubeconfig")
    return Settings(
        context=settings.get("context"),
        kubeconfig=Path(kubeconfig).expanduser() if kubeconfig else None,
        in_cluster=bool(settings.get("in_cluster", False)),
        environments=dict(settings.get("environments") or {}),
        label=settings.get("label") or DEFAULT_LABEL,
        services={str(k): str(v) for k, v in (settings.get("services") or {}).items()},
    )
