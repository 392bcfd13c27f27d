"""The config's [[notify]] tables: each kind's keys, checked and read into NotifyConfig.

Secrets never sit in these tables: a webhook's URL, the SMTP password and
PagerDuty's routing key are each named by the environment variable that holds them.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from console.config.checks import BOOLEAN, INTEGER, NUMBER, STRING, Checker, closest, quoted
from console.config.lines import KeyPath
from console.domain.settings import (
    MAX_NOTIFY_TIMEOUT,
    PAGERDUTY_EVENTS_URL,
    EmailConfig,
    NotifyConfig,
)

_WEBHOOK = ("kind", "url_env", "timeout")
KEYS: dict[str, tuple[str, ...]] = {
    "slack": _WEBHOOK,
    "matrix": _WEBHOOK,
    "webhook": _WEBHOOK,
    "email": (
        "kind",
        "timeout",
        "smtp_host",
        "smtp_port",
        "starttls",
        "username",
        "password_env",
        "from",
        "to",
        "ca_file",
    ),  # fmt: skip
    "pagerduty": ("kind", "timeout", "routing_key_env", "events_url"),
}
KINDS = tuple(KEYS)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ADDRESS = re.compile(r"[^@\s<>,]+@[^@\s<>,]+")


def _env(check: Checker, block: dict[str, Any], path: KeyPath, key: str, what: str,
         *, required: bool) -> str | None:  # fmt: skip
    name = check.get(block, path, key, STRING, required=required)
    if name is not None and not _ENV_NAME.fullmatch(name):
        check.add(
            (*path, key),
            f"expected the name of an environment variable that holds {what} "
            "(letters, digits and _), not a value",
        )
        return None
    return name


def _email(check: Checker, block: dict[str, Any], path: KeyPath) -> EmailConfig | None:
    host = check.get(block, path, "smtp_host", STRING, required=True)
    port = check.get(block, path, "smtp_port", INTEGER)
    if port is not None and not 1 <= port <= 65535:
        check.add((*path, "smtp_port"), "must be a port number, 1 to 65535")
        port = None
    starttls = check.get(block, path, "starttls", BOOLEAN)
    username = check.get(block, path, "username", STRING)
    password_env = _env(check, block, path, "password_env", "the password", required=False)
    whole = True
    if username and password_env is None:
        whole = False
        if "password_env" not in block:
            check.add((*path, "password_env"), "a username needs password_env, the variable "
                      "holding its password")  # fmt: skip
    sender = check.get(block, path, "from", STRING, required=True)
    if sender is not None and not _ADDRESS.fullmatch(sender.strip()):
        check.add((*path, "from"), "expected an email address")
        sender = None
    to = check.strings(block, path, "to", required=True)
    bad = [i for i, address in enumerate(to) if not _ADDRESS.fullmatch(address.strip())]
    for i in bad:
        check.add((*path, "to", i), "expected an email address")
    if "to" in block and not to and not bad:
        check.add((*path, "to"), "name at least one address")
    ca_file = check.get(block, path, "ca_file", STRING)
    if not whole or host is None or sender is None or not to or bad:
        return None
    return EmailConfig(
        smtp_host=host,
        sender=sender.strip(),
        to=tuple(a.strip() for a in to),
        smtp_port=587 if port is None else port,
        starttls=True if starttls is None else starttls,
        username=username or "",
        password_env=password_env or "",
        ca_file=ca_file or "",
    )


def notify_sinks(check: Checker, raw: dict[str, Any]) -> tuple[NotifyConfig, ...]:
    """Every [[notify]] table that is whole; each problem on its file, line and key."""
    sinks: list[NotifyConfig] = []
    for path, block in check.blocks(raw, "notify"):
        kind = check.get(block, path, "kind", STRING, required=True)
        if kind is not None and kind not in KINDS:
            near = closest(kind, KINDS)
            hint = f"; did you mean {near}?" if near else f" (known: {', '.join(KINDS)})"
            check.add((*path, "kind"), f"unknown notify kind{quoted(kind)}{hint}")
            kind = None
        allowed = KEYS[kind] if kind else tuple({k for keys in KEYS.values() for k in keys})
        check.unknown_keys(block, path, allowed)
        url_env = None
        if kind in ("slack", "matrix", "webhook") or (kind is None and "url_env" in block):
            url_env = _env(check, block, path, "url_env", "the URL", required=True)
        timeout = check.get(block, path, "timeout", NUMBER)
        if timeout is not None and not 0 < timeout <= MAX_NOTIFY_TIMEOUT:
            check.add(
                (*path, "timeout"),
                f"must be more than 0 and at most {MAX_NOTIFY_TIMEOUT:g} seconds",
            )
            timeout = None
        extra: dict[str, Any] = {} if timeout is None else {"timeout": float(timeout)}
        if kind == "email":
            email = _email(check, block, path)
            if email is not None:
                sinks.append(NotifyConfig(kind=kind, email=email, **extra))
        elif kind == "pagerduty":
            key_env = _env(check, block, path, "routing_key_env", "the routing key",
                           required=True)  # fmt: skip
            url = check.get(block, path, "events_url", STRING)
            if url is not None and urlsplit(url).scheme not in ("http", "https"):
                check.add((*path, "events_url"), "expected an http:// or https:// URL")
                key_env = None
            if key_env is not None:
                events_url = url or PAGERDUTY_EVENTS_URL
                sinks.append(
                    NotifyConfig(kind=kind, routing_key_env=key_env, events_url=events_url, **extra)
                )
        elif kind is not None and url_env is not None:
            sinks.append(NotifyConfig(kind=kind, url_env=url_env, **extra))
    return tuple(sinks)
