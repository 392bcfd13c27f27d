"""One AWS account and region: boto3 clients, a bounded pool of threads, typed errors.

boto3 is synchronous, so every call runs in this provider's own thread pool, never
on the event loop; the pool's size is the provider's concurrency bound, and one
slow account never takes threads from another. botocore's adaptive retry mode
backs off on throttling and paces later calls. boto3 is imported here, inside the
functions, so a console without AWS providers never loads it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from providers.aws.settings import Connection
from providers.base import (
    AuthError,
    BadResponse,
    NotFound,
    ProviderError,
    ProviderTimeout,
    Refused,
    Unreachable,
)

T = TypeVar("T")

# Error codes that mean "who you are" failed, not "what you asked".
AUTH_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AuthFailure",
        "RequestExpired",
        "InvalidSignatureException",
        "MissingAuthenticationToken",
    }
)
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
NOT_FOUND_CODES = frozenset(
    {
        "ClusterNotFoundException",
        "ServiceNotFoundException",
        "ResourceNotFoundException",
        "NoSuchBucket",
        "NoSuchKey",
        "NoSuchDistribution",
        "NotFound",
    }
)
THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ThrottledException",
    }  # fmt: skip
)


class DaemonPool:
    """At most `size` daemon threads running submitted calls.

    Not a ThreadPoolExecutor: its threads are joined when the interpreter exits, so
    a command whose AWS endpoint hangs would wait out every retry after printing its
    answer. These threads die with the process; an abandoned call is just dropped.
    """

    def __init__(self, size: int, name: str) -> None:
        self.size = size
        self.name = name
        self._queue: queue.SimpleQueue[tuple[Future, Callable[[], Any]] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if len(self._threads) < self.size:  # grown on demand, never shrunk
                thread = threading.Thread(target=self._work, name=self.name, daemon=True)
                self._threads.append(thread)
                thread.start()
            self._queue.put((future, fn))
        return future

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, fn = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)


class Aws:
    """The clients of one provider block, made on first use and shared by its threads."""

    def __init__(self, provider: str, connection: Connection) -> None:
        self.provider = provider
        self.connection = connection
        self._lock = threading.Lock()
        self._session: Any = None
        self._clients: dict[str, Any] = {}
        self._pool = DaemonPool(connection.max_concurrency, f"aws:{provider}")

    def client(self, service: str) -> Any:
        """A client for `service` (ecs, logs, cloudwatch, s3, cloudfront, elbv2)."""
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                client = self._clients[service] = self._make(service)
            return client

    def _make(self, service: str) -> Any:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError

        c = self.connection
        try:
            if self._session is None:
                self._session = boto3.session.Session(profile_name=c.profile)
            config = Config(
                region_name=c.region or self._session.region_name or "us-east-1",
                retries={"mode": "adaptive", "max_attempts": 5},
                max_pool_connections=c.max_concurrency + 2,
                connect_timeout=min(c.call_timeout, 10.0),
                read_timeout=c.call_timeout,
                tcp_keepalive=True,
                # An endpoint override (LocalStack, a VPC endpoint, an emulator) is one
                # host: no `stream-` style host prefixes in front of it.
                inject_host_prefix=not c.endpoint_url,
            )
            return self._session.client(service, endpoint_url=c.endpoint_url, config=config)
        except BotoCoreError as exc:
            raise self.translate(exc, f"{service} client") from None

    async def call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn` in this provider's pool; any failure becomes a typed one-line error."""

        def run() -> T:
            try:
                return fn(*args, **kwargs)
            except ProviderError:
                raise
            except Exception as exc:
                raise self.translate(exc, what) from None

        context = contextvars.copy_context()
        return await asyncio.wrap_future(self._pool.submit(functools.partial(context.run, run)))

    def thread(self, fn: Callable[[], None], name: str) -> None:
        """Run a long blocking loop (a live tail session) on its own daemon thread."""
        threading.Thread(target=fn, name=f"aws:{self.provider}:{name}", daemon=True).start()

    def translate(self, exc: BaseException, what: str) -> ProviderError:
        return translate(exc, what, self.provider, self.connection)

    def close(self) -> None:
        self._pool.close()
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str((response.get("Error") or {}).get("Code") or "")
    return ""


def _message(exc: BaseException) -> str:
    """The backend's own one-line message: from the response body, never the request."""
    response = getattr(exc, "response", None)
    text = ""
    if isinstance(response, dict):
        text = str((response.get("Error") or {}).get("Message") or "")
    return (text.strip().splitlines() or [""])[0][:200]


def credentials_line(provider: str, connection: Connection, problem: str) -> AuthError:
    """The one line for a credentials failure: which provider, which profile, what to run."""
    return AuthError(
        f"AWS provider {provider} ({connection.profile_label}): {problem}; "
        f"run `{connection.login_hint}`"
    )


def translate(
    exc: BaseException, what: str, provider: str, connection: Connection
) -> ProviderError:
    """A typed, credential-free line for any failure of an AWS call.

    Messages come from error codes and the response's own message field; request
    headers (where signatures and key ids live) are never read.
    """
    from botocore import exceptions as bex

    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, bex.NoCredentialsError | bex.PartialCredentialsError):
        return credentials_line(provider, connection, "no credentials found")
    if isinstance(exc, bex.ProfileNotFound):
        return credentials_line(provider, connection, "profile not found in the AWS config")
    if isinstance(exc, bex.TokenRetrievalError | bex.SSOTokenLoadError | bex.SSOError):
        return credentials_line(provider, connection, "the SSO session has expired")
    if isinstance(exc, bex.UnauthorizedSSOTokenError):
        return credentials_line(provider, connection, "the SSO session has expired")
    if isinstance(exc, bex.ClientError):
        code = error_code(exc)
        if code in AUTH_CODES:
            problem = "credentials expired" if "Expired" in code else "credentials rejected"
            return credentials_line(provider, connection, f"{problem} ({code})")
        if code in DENIED_CODES:
            return AuthError(f"{what}: access denied: {_message(exc) or code}")
        if code in NOT_FOUND_CODES:
            return NotFound(f"{what}: {_message(exc) or code}")
        if code in THROTTLE_CODES:
            return ProviderTimeout(f"{what}: throttled by AWS ({code}) after retries")
        if code in ("InvalidParameterException", "InvalidParameterValue", "ValidationError",
                    "ValidationException", "InvalidRequest", "UnsupportedFeatureException",
                    "PlatformUnknownException", "PlatformTaskDefinitionIncompatibilityException",
                    "ServiceNotActiveException", "ClientException"):  # fmt: skip
            return Refused(f"{what}: {_message(exc) or code}")
        status = (getattr(exc, "response", {}) or {}).get("ResponseMetadata", {})
        http = status.get("HTTPStatusCode", "?")
        return BadResponse(f"{what}: {code or 'error'} (HTTP {http}): {_message(exc)}")
    if isinstance(exc, bex.ReadTimeoutError | bex.ConnectTimeoutError):
        return ProviderTimeout(f"{what}: no answer in time")
    if isinstance(exc, bex.EndpointConnectionError | bex.ConnectionError):
        return Unreachable(f"{what}: endpoint not answering")
    if isinstance(exc, bex.NoRegionError):
        return BadResponse(f"{what}: no region configured (set region in the provider block)")
    if isinstance(exc, bex.BotoCoreError):
        return BadResponse(f"{what}: {type(exc).__name__}")
    return BadResponse(f"{what}: {type(exc).__name__}")
