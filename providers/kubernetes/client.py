"""Connecting to one cluster and turning its failures into Quorum's typed errors.

Everything here runs in worker threads: the official client is synchronous. The
`kubernetes` package is imported inside these functions only, so merely
configuring (or not configuring) a cluster costs nothing at start-up.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from providers.base import (
    AuthError,
    BadResponse,
    NotFound,
    ProviderError,
    ProviderTimeout,
    Refused,
    Unreachable,
)
from providers.kubernetes.settings import Settings

MERGE_PATCH = "application/merge-patch+json"


def api_client(settings: Settings) -> Any:
    """An ApiClient for the configured context (or the in-cluster account)."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    cfg = client.Configuration()
    try:
        if settings.in_cluster:
            config.load_incluster_config(client_configuration=cfg)
        else:
            config.load_kube_config(
                config_file=str(settings.kubeconfig) if settings.kubeconfig else None,
                context=settings.context,
                client_configuration=cfg,
                persist_config=False,
            )
    except (ConfigException, OSError, TypeError, ValueError) as exc:
        where = "in-cluster config" if settings.in_cluster else "kubeconfig"
        raise AuthError(f"{where}: {_first_line(str(exc))}") from None
    # Watches, log follows and actions share one pool; a failed connection is
    # reported at once (the provider retries with backoff) rather than retried blind.
    cfg.connection_pool_maxsize = 64
    cfg.retries = 0
    return client.ApiClient(cfg)


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:200]


def body_json(response: Any) -> Any:
    """The decoded JSON body of a raw (not preloaded) response."""
    try:
        return json.loads(response.data)
    except ValueError as exc:
        raise BadResponse(f"not JSON: {exc}") from None
    finally:
        response.release_conn()


def interrupt(response: Any) -> None:
    """Unblock a thread reading `response` (urllib3 2.3+), or at least close it."""
    with contextlib.suppress(RuntimeError, OSError):
        getattr(response, "shutdown", response.close)()


def translate(exc: BaseException, what: str) -> ProviderError:
    """A typed, credential-free one-line error for any failure of a cluster call."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError, ProtocolError, TimeoutError

    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, ApiException):
        status = int(exc.status or 0)
        message = _status_message(exc)
        if status == 401:
            return AuthError(f"{what}: unauthorized (credentials rejected or expired)")
        if status == 403:
            return AuthError(f"{what}: forbidden: {message}")
        if status == 404:
            return NotFound(f"{what}: {message}")
        if status in (409, 422):
            return Refused(f"{what}: {message}")
        if status == 0:
            return Unreachable(f"{what}: {message}")
        return BadResponse(f"{what}: HTTP {status}: {message}")
    if isinstance(exc, TimeoutError):
        return ProviderTimeout(f"{what}: no answer in time")
    if isinstance(exc, HTTPError | ProtocolError | OSError):
        return Unreachable(f"{what}: API server not answering")
    return BadResponse(f"{what}: {type(exc).__name__}")


def _status_message(exc: Any) -> str:
    """The `message` of a Kubernetes Status body; never the headers, never the whole body."""
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        body = {}
    message = body.get("message") if isinstance(body, dict) else None
    return _first_line(str(message or exc.reason or "no reason given"))
