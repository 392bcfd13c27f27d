"""List then watch one kind of object, keeping the cache current without polling.

The reflector lists (in pages), remembers the list's resourceVersion and watches
from it. A 410 Gone (the version is too old for the server) means relist; a
dropped or timed-out stream means reconnect from the last version seen; an
unreachable server is reported to the cache and retried with exponential backoff,
so a cluster that comes back recovers by itself.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

from providers.kubernetes.cache import Cache
from providers.kubernetes.client import body_json, interrupt, translate
from providers.kubernetes.objects import METHOD_NAMES

# Seconds: the server ends a watch after WATCH_SECONDS; the client gives up on a
# silent connection a little later, so a half-open connection is noticed too.
WATCH_SECONDS = 300
READ_TIMEOUT = WATCH_SECONDS + 30
CONNECT_TIMEOUT = 5
PAGE = 500
MAX_BACKOFF = 30.0
HIDING = (403, 404)  # a list refused with these hides the kind instead of failing
RECHECK_HIDDEN = 300.0  # seconds before a hidden kind is listed again


class Gone(Exception):
    """The watch's resourceVersion expired: list again."""


class Dropped(Exception):
    """The stream broke right after it opened; reconnect after a pause."""


class Reflector:
    """One thread keeping one kind in one namespace (or the cluster) in the cache."""

    def __init__(
        self,
        api: Any,
        cache: Cache,
        kind: str,
        namespace: str | None,
        *,
        backoff: float = 0.5,
    ) -> None:
        self.api = api
        self.cache = cache
        self.kind = kind
        self.namespace = namespace
        self.name = f"{kind}s/{namespace or '*'}"
        self.first_backoff = backoff
        self.stop = threading.Event()
        self.lists = 0  # how many times it listed (a relist after 410 counts)
        self._response: Any = None
        self._thread = threading.Thread(target=self._run, name=f"watch {self.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.stop.set()
        response = self._response
        if response is not None:
            interrupt(response)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _call(self, **kwargs: Any) -> Any:
        from kubernetes import client

        api = client.CoreV1Api(self.api) if self.kind == "pod" else client.AppsV1Api(self.api)
        if self.namespace is None:
            method = getattr(api, f"list_{METHOD_NAMES[self.kind]}_for_all_namespaces")
            return method(_preload_content=False, **kwargs)
        method = getattr(api, f"list_namespaced_{METHOD_NAMES[self.kind]}")
        return method(self.namespace, _preload_content=False, **kwargs)

    def _run(self) -> None:
        version: str | None = None
        backoff = self.first_backoff
        while not self.stop.is_set():
            try:
                if version is None:
                    version = self._list()
                if self.stop.is_set():
                    break
                self._watch(version)
                backoff = self.first_backoff
            except Gone:
                version = None
            except Dropped:
                # A stream cut soon after it opened, again and again: slow down, quietly.
                self.stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            except Exception as exc:  # every failure is reported, then retried
                if self.stop.is_set():
                    break
                if _is_gone(exc):
                    version = None
                    continue
                if version is None and getattr(exc, "status", None) in HIDING:
                    # A role that may not list this kind (or a server without it): the
                    # other kinds are shown; this one is checked again now and then.
                    self.cache.hide(self.name, _hidden_reason(exc))
                    self.stop.wait(RECHECK_HIDDEN)
                    continue
                self.cache.failed(self.name, translate(exc, f"watch {self.name}"))
                version = None
                self.stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    def _list(self) -> str:
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"limit": PAGE}
            if token:
                kwargs["_continue"] = token
            page = body_json(self._call(_request_timeout=(CONNECT_TIMEOUT, 60), **kwargs))
            items.extend(page.get("items") or [])
            md = page.get("metadata") or {}
            token = md.get("continue")
            if not token:
                break
        self.lists += 1
        self.cache.replace(self.name, self.kind, self.namespace, items)
        return md.get("resourceVersion") or ""

    def _watch(self, version: str) -> None:
        """Apply events until the stream ends; raises Gone on 410."""
        response = self._call(
            watch=True,
            resource_version=version or None,
            allow_watch_bookmarks=True,
            timeout_seconds=WATCH_SECONDS,
            _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
        )
        self._response = response
        if self.stop.is_set():  # closed while connecting
            response.release_conn()
            return
        opened = time.monotonic()
        try:
            self.cache.recovered(self.name)
            for event in _events(response):
                if self.stop.is_set():
                    return
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        raise Gone()
                    raise RuntimeError(f"watch error {obj.get('code')}: {obj.get('reason')}")
                if kind in ("ADDED", "MODIFIED", "DELETED"):
                    self.cache.apply(self.kind, kind, obj)
        except (Gone, RuntimeError):
            raise
        except Exception as exc:
            # A quiet watch timed out, or the connection dropped (load balancers do):
            # reconnect from the same version; a server that is gone fails the reconnect.
            if not _is_read_timeout(exc) and time.monotonic() - opened < 1.0:
                raise Dropped() from exc
        finally:
            self._response = None
            response.release_conn()


def _events(response: Any) -> Iterator[dict[str, Any]]:
    buffer = b""
    for chunk in response.stream(amt=None, decode_content=False):
        lines = (buffer + chunk).split(b"\n")
        buffer = lines.pop()
        for line in lines:
            if line.strip():
                yield json.loads(line)
    if buffer.strip():
        yield json.loads(buffer)


def _hidden_reason(exc: BaseException) -> str:
    if getattr(exc, "status", None) == 403:
        return "forbidden: the credentials may not list it"
    return "not found: the server does not serve it here"


def _is_gone(exc: BaseException) -> bool:
    return getattr(exc, "status", None) == 410


def _is_read_timeout(exc: BaseException) -> bool:
    from urllib3.exceptions import ReadTimeoutError

    return isinstance(exc, ReadTimeoutError) or isinstance(
        getattr(exc, "__context__", None), ReadTimeoutError
    )
