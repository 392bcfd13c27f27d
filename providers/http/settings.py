"""The settings every HTTP provider block shares: where the API is, where the token
comes from, and how patient and how parallel the client may be.

Checked before anything connects, and read into `HttpSettings` by each kind's own
settings module, so a later HTTP provider (Vercel, Netlify, Prometheus...) declares
only its own keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from providers.base import Setting

# The keys every HTTP provider block accepts; Quorum checks their types.
DECLARED = (
    Setting("api_url", "string", None, "the API's base URL (Enterprise, self-managed, a test)"),
    Setting("token_env", "string", None, "the environment variable that holds the token"),
    Setting("token_command", "array", None, "instead: a command printing the token, no shell"),
    Setting("token_timeout", "number", 10.0, "seconds the token command may take"),
    Setting("connect_timeout", "number", 5.0, "seconds to connect"),
    Setting("read_timeout", "number", 8.0, "seconds to wait for an answer's next bytes"),
    Setting("max_connections", "integer", 64, "connections open at once"),
    Setting("retries", "integer", 3, "retries after a 5xx (reads), a 429 or a spent limit"),
    Setting("max_retry_wait", "number", 5.0, "the longest wait for Retry-After or a reset"),
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class HttpSettings:
    api_url: str
    token_env: str | None = None
    token_command: tuple[str, ...] = ()
    token_timeout: float = 10.0
    connect_timeout: float = 5.0
    read_timeout: float = 8.0
    # Connections open at once; a refresh over many repositories runs this many requests
    # in parallel, so a cycle lasts about as long as its slowest repository.
    max_connections: int = 64
    retries: int = 3
    # The longest wait for a rate limit's reset or a Retry-After inside one call;
    # a longer one fails the call at once (the hub retries later) instead of hanging.
    max_retry_wait: float = 5.0


def check(settings: Mapping[str, Any], *, token_required: bool = True) -> list[tuple[str, str]]:
    """Problems beyond the declared types as (key, message); never echoes a value."""
    problems: list[tuple[str, str]] = []
    url = settings.get("api_url")
    if isinstance(url, str):
        problems += _check_url(url)
    env = settings.get("token_env")
    command = settings.get("token_command")
    if isinstance(env, str) and not _ENV_NAME.fullmatch(env):
        problems.append(
            (
                "token_env",
                "expected the name of an environment variable that holds the token "
                "(letters, digits and _), not a value",
            )
        )
    if isinstance(command, list) and not _command(command):
        problems.append(
            ("token_command", "expected the program and its arguments, none of them empty")
        )
    if env is not None and command is not None:
        problems.append(("token_command", "cannot be combined with token_env: choose one"))
    if token_required and env is None and command is None:
        problems.append(
            ("token_env", 'a token source is needed: token_env = "VAR" or token_command')
        )
    for key in ("token_timeout", "connect_timeout", "read_timeout", "max_retry_wait"):
        value = settings.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value <= 0:
            problems.append((key, "must be a number of seconds above 0"))
    for key, least in (("max_connections", 1), ("retries", 0)):
        value = settings.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value < least:
            problems.append((key, f"must be {least} or more"))
    return problems


def _check_url(url: str) -> list[tuple[str, str]]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [("api_url", "expected an http:// or https:// URL")]
    if parts.username or parts.password:
        return [("api_url", "must not carry credentials; name a token with token_env")]
    return []


def _command(value: Any) -> tuple[str, ...]:
    """The words of a token command; empty when it is not one."""
    if isinstance(value, list) and value and all(isinstance(w, str) and w for w in value):
        return tuple(value)
    return ()


def parse(settings: Mapping[str, Any], default_url: str) -> HttpSettings:
    """Settings from a checked mapping (see `check`)."""
    numbers = {
        key: float(settings[key])
        for key in ("token_timeout", "connect_timeout", "read_timeout", "max_retry_wait")
        if key in settings
    }
    counts = {key: int(settings[key]) for key in ("max_connections", "retries") if key in settings}
    return HttpSettings(
        api_url=str(settings.get("api_url") or default_url).rstrip("/"),
        token_env=settings.get("token_env"),
        token_command=_command(settings.get("token_command"))
        if "token_command" in settings
        else (),
        **numbers,
        **counts,
    )
