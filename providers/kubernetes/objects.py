"""Small helpers over raw Kubernetes JSON objects (dicts as the API server sends them).

The provider keeps raw JSON rather than the client's generated models: decoding a
list of ten thousand pods into models costs several times the JSON parse, and a
watch cache needs only a few fields of each object.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

PLURALS = {"deployment": "deployments", "statefulset": "statefulsets", "daemonset": "daemonsets"}
# How the official client spells each kind in its method names.
METHOD_NAMES = {
    "deployment": "deployment",
    "statefulset": "stateful_set",
    "daemonset": "daemon_set",
    "pod": "pod",
}


def meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def parse_time(value: str | None) -> datetime | None:
    """An RFC 3339 timestamp (seconds to nanoseconds precision) as aware UTC."""
    if not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:digits][:6].ljust(6, '0')}{rest[digits:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The containers of a workload's pod template."""
    return ((obj.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []


def primary_container(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The container a deploy changes: the one named like the workload, else the first."""
    items = containers(obj)
    name = meta(obj).get("name")
    for item in items:
        if item.get("name") == name:
            return item
    return items[0] if items else None


def split_image(image: str) -> tuple[str, str]:
    """(repository, tag or digest); a bare name is tagged `latest`, as the runtime does."""
    if "@" in image:
        repo, _, digest = image.partition("@")
        return repo, digest
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon + 1 :]
    return image, "latest"


def image_revision(image: str) -> str:
    """What Quorum calls an image's revision: its tag, or a short digest."""
    _, ref = split_image(image)
    if ref.startswith("sha256:"):
        return ref[:19]
    return ref


_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_IMAGE = re.compile(
    rf"(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    rf"(?::{_TAG})?(?:@sha256:[a-f0-9]{{64}})?"
)
_CONTAINER = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?")


def revision_problem(revision: str) -> str | None:
    """Why `revision` (`[container=]tag-or-image`) is not an image reference, or None."""
    chosen, _, wanted = revision.rpartition("=")
    if chosen and not _CONTAINER.fullmatch(chosen):
        return "the part before '=' must be a container name"
    full = "/" in wanted or ":" in wanted or "@" in wanted
    if not (_IMAGE if full else re.compile(_TAG)).fullmatch(wanted):
        kind = "an image reference" if full else "an image tag (letters, digits, _ . -)"
        return f"revision is not {kind}"
    return None


def resolve_image(current: str, revision: str) -> str:
    """The image a deploy of `revision` sets: a full image as is, a tag on the same repository."""
    if "/" in revision or ":" in revision or "@" in revision:
        return revision
    repo, _ = split_image(current)
    return f"{repo}:{revision}"


def selector_string(selector: dict[str, Any] | None) -> str:
    """A selector as the API's `labelSelector` query string."""
    parts = [f"{k}={v}" for k, v in sorted((selector or {}).get("matchLabels", {}).items())]
    for expr in (selector or {}).get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], ",".join(expr.get("values") or [])
        parts.append(
            {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key}.get(
                op, f"!{key}"
            )
        )
    return ",".join(parts)


_UNITS = {
    "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1.0,
    "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50, "Ei": 2.0**60,
}  # fmt: skip


def quantity(value: str | int | float | None) -> float:
    """A resource quantity ("250m", "1.5", "128Mi", "12345n") as a plain number."""
    if value is None:
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    text = value.strip()
    for suffix in ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * _UNITS[suffix]
    if text and text[-1] in _UNITS:
        return float(text[:-1]) * _UNITS[text[-1]]
    try:
        return float(text)
    except ValueError:
        return 0.0
