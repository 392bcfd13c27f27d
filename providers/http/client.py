"""One httpx client per provider block, shared by every HTTP provider kind.

What a polling console needs from an API that meters it:
- timeouts on connect and read, and a bounded pool of connections;
- retries with exponential backoff on 5xx (reads only: a POST is not repeated, it
  might have been applied) and on 429 or a spent rate limit, waiting for
  `Retry-After` or the reset header, never longer than `max_retry_wait`;
- conditional GETs: the ETag of every answer is kept, and a 304 returns the body
  seen before (GitHub does not count a 304 against the rate limit);
- `Link: <...>; rel="next"` pagination;
- the token in a header of each request only (never a default header, so a
  redirect to a download host is followed without it), and never in a message.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from console.domain.model import utcnow
from providers.base import (
    AuthError,
    BadResponse,
    NotFound,
    ProviderError,
    ProviderTimeout,
    Refused,
    Unreachable,
)
from providers.http.ratelimit import RateLimit
from providers.http.settings import HttpSettings
from providers.http.tokens import TokenSource
from providers.http.transport import PooledTransport

Sleep = Callable[[float], Awaitable[None]]
AuthHeader = Callable[[str], dict[str, str]]
_READS = frozenset({"GET", "HEAD"})
_MESSAGE_LIMIT = 200
_MAX_PAGES = 20


class RateLimited(ProviderError):
    kind = "rate limited"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Counters:
    """What this client sent, for the status line and the benchmarks."""

    sent: int = 0  # requests on the wire, retries included
    charged: int = 0  # answers that count against a rate limit (all but 304)
    not_modified: int = 0  # 304 answers served from the ETag cache
    retried: int = 0


@dataclass(frozen=True)
class Answer:
    status: int
    data: Any
    headers: httpx.Headers
    cached: bool = False  # a 304: `data` is the body seen before

    @property
    def next_url(self) -> str | None:
        link = self.headers.get("link")
        if not link:
            return None
        for part in link.split(","):
            url, _, params = part.partition(";")
            if 'rel="next"' in params.replace(" ", "") or "rel=next" in params.replace(" ", ""):
                return url.strip().strip("<>")
        return None


class HttpClient:
    """An API client for one provider block; cheap to build, connects on first use."""

    def __init__(
        self,
        settings: HttpSettings,
        *,
        auth_header: AuthHeader = bearer,
        headers: dict[str, str] | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.tokens = TokenSource(settings)
        self.auth_header = auth_header
        self.base_headers = {"User-Agent": "quorum", **(headers or {})}
        self.sleep = sleep
        self.clock = clock
        self.conditional = True  # ETags on; the benchmark turns them off to compare
        self.stats = Counters()
        self.rate: RateLimit | None = None
        # URL -> (ETag, body, Link header) of its last 200: a 304 may leave Link out.
        self._etags: dict[str, tuple[str, Any, str | None]] = {}
        self._client: httpx.AsyncClient | None = None

    @property
    def host(self) -> str:
        return httpx.URL(self.settings.api_url).host

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            s = self.settings
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(
                    connect=s.connect_timeout,
                    read=s.read_timeout,
                    write=s.read_timeout,
                    pool=s.read_timeout,
                ),  # fmt: skip
                transport=PooledTransport(s.max_connections),
                headers=self.base_headers,
                follow_redirects=False,
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def url(self, path: str) -> str:
        return path if "://" in path else f"{self.settings.api_url}/{path.lstrip('/')}"

    # -- requests ------------------------------------------------------------------

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """The JSON body at `path` (conditional when an ETag is known)."""
        return (await self.request("GET", path, params=params)).data

    async def pages(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        max_pages: int = _MAX_PAGES,
    ) -> list[Any]:
        """Every item of a listing, following `rel="next"` links up to `max_pages` pages.

        `key` names the array inside an object answer (`workflow_runs`, `jobs`).
        """
        items: list[Any] = []
        url: str | None = path
        query = params
        for _ in range(max_pages):
            if url is None:
                break
            answer = await self.request("GET", url, params=query)
            page = answer.data.get(key) if key and isinstance(answer.data, dict) else answer.data
            if not isinstance(page, list):
                raise BadResponse(f"{_where(url)}: expected a list")
            items.extend(page)
            url, query = answer.next_url, None
        return items

    async def post(self, path: str, body: Any = None) -> Answer:
        return await self.request("POST", path, body=body)

    async def text(self, path: str) -> str:
        """A text body, following a redirect to a download host without the token."""
        answer = await self.request("GET", path, raw=True, conditional=False)
        hops = 0
        while answer.status in (301, 302, 303, 307, 308) and hops < 5:
            location = answer.headers.get("location")
            if not location:
                raise BadResponse(f"{_where(path)}: redirect without a location")
            answer = await self._download(location)
            hops += 1
        return answer.data

    async def _download(self, location: str) -> Answer:
        try:
            response = await self._http().get(location)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        self.stats.sent += 1
        if response.status_code >= 400:
            raise self._status_error(response, "log download")
        return Answer(response.status_code, response.text, response.headers)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        raw: bool = False,
        conditional: bool | None = None,
    ) -> Answer:
        """One call with retries; the typed error of the last attempt when all fail."""
        token = await self.tokens.get()
        headers = dict(self.auth_header(token)) if token else {}
        url = self.url(path)
        # Parsed once here and handed to httpx as it is. Params are merged into a query
        # the URL already has (a Link header's next page), as httpx would merge them.
        target = httpx.URL(url).copy_merge_params(params) if params else httpx.URL(url)
        use_etag = (
            method == "GET"
            and not raw
            and (self.conditional if conditional is None else conditional)
        )
        cache_key = str(target) if use_etag else ""
        cached = self._etags.get(cache_key) if use_etag else None
        if cached:
            headers["If-None-Match"] = cached[0]
        attempt = 0
        renewed = False
        while True:
            response = await self._send(method, target, body, headers)
            self._observe(response)
            if response.status_code == 401 and not renewed:
                renewed = True  # a refused request was not applied: safe to send again
                fresh = await self.tokens.renew(token)
                if fresh is not None:
                    token = fresh
                    headers.update(self.auth_header(fresh))
                    continue
            wait = self._retry_wait(method, response, attempt)
            if wait is None:
                break
            attempt += 1
            self.stats.retried += 1
            await self.sleep(wait)
        if response.status_code == 304 and cached:
            self.stats.not_modified += 1
            seen = response.headers.copy()
            if cached[2] and "link" not in seen:
                seen["link"] = cached[2]  # the next page is still the one the 200 named
            return Answer(304, cached[1], seen, cached=True)
        self.stats.charged += 1
        if response.status_code >= 400:
            raise self._status_error(response, _where(url))
        if raw or 300 <= response.status_code < 400:
            return Answer(response.status_code, response.text, response.headers)
        data = self._decode(response, path)
        etag = response.headers.get("etag")
        if use_etag and etag:
            self._etags[cache_key] = (etag, data, response.headers.get("link"))
        return Answer(response.status_code, data, response.headers)

    async def _send(
        self, method: str, target: httpx.URL, body: Any, headers: dict[str, str]
    ) -> httpx.Response:
        self.stats.sent += 1
        try:
            return await self._http().request(method, target, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None

    def _observe(self, response: httpx.Response) -> None:
        found = RateLimit.from_headers(response.headers)
        if found is not None:
            self.rate = found

    def _retry_wait(self, method: str, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before trying again; None to stop here with this answer."""
        status = response.status_code
        if attempt >= self.settings.retries:
            return None
        if self._limited(response):
            wait = self._limit_wait(response)
            return wait if wait <= self.settings.max_retry_wait else None
        if status >= 500 and method in _READS:
            return min(0.5 * 2**attempt, self.settings.max_retry_wait)
        return None

    def _limited(self, response: httpx.Response) -> bool:
        """A 429, or GitHub's 403 for a spent primary or a secondary rate limit."""
        if response.status_code == 429:
            return True
        spent = self.rate is not None and self.rate.exhausted
        return response.status_code == 403 and ("retry-after" in response.headers or spent)

    def _limit_wait(self, response: httpx.Response) -> float:
        """What the server asked for: Retry-After (seconds or a date), else the reset time."""
        after = response.headers.get("retry-after")
        now = self.clock()
        if after:
            try:
                return max(0.0, float(after))
            except ValueError:
                try:
                    return max(0.0, (parsedate_to_datetime(after) - now).total_seconds())
                except (TypeError, ValueError):
                    pass
        limit = RateLimit.from_headers(response.headers)
        if limit is not None and limit.exhausted:
            return max(0.0, (limit.reset_at - now).total_seconds())
        return 1.0

    # -- errors --------------------------------------------------------------------

    def _decode(self, response: httpx.Response, path: str) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BadResponse(
                f"{_where(self.url(path))}: {response.status_code} with a body that is not JSON"
            ) from None

    def _message(self, response: httpx.Response) -> str:
        """The backend's own one-line reason, scrubbed of the token, shortened."""
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return ""
        text = ""
        if isinstance(body, dict):
            found = body.get("message") or body.get("error") or ""
            if isinstance(found, dict) and isinstance(found.get("message"), str):
                found = found["message"]  # Vercel: {"error": {"code", "message"}}
            errors = body.get("errors")
            if not found and isinstance(errors, list) and errors and isinstance(errors[0], dict):
                found = errors[0].get("message") or ""  # Cloudflare: {"errors": [{...}]}
            text = found if isinstance(found, str) else json.dumps(found)
        text = self.tokens.scrub(" ".join(text.split()))
        return text[:_MESSAGE_LIMIT]

    def _status_error(self, response: httpx.Response, where: str) -> ProviderError:
        status = response.status_code
        message = self._message(response)
        said = f": {message}" if message else ""
        if status == 401:
            return AuthError(f"{where}: 401 the token from {self.tokens.origin} was refused{said}")
        if self._limited(response):
            after = response.headers.get("retry-after")
            if after:
                reset = f"retry after {after}s" if after.isdigit() else f"retry after {after}"
            elif self.rate is not None:
                reset = self.rate.describe(self.clock())
            else:
                reset = "no reset time given"
            return RateLimited(f"{where}: {status} rate limit reached ({reset})")
        if status == 403:
            return AuthError(f"{where}: 403 forbidden{said}")
        if status == 404:
            return NotFound(f"{where}: 404{said}")
        if status in (409, 422):
            return Refused(f"{where}: {status}{said}")
        return BadResponse(f"{where}: {status}{said}")

    def _transport_error(self, exc: httpx.HTTPError) -> ProviderError:
        if isinstance(exc, httpx.TimeoutException):
            return ProviderTimeout(f"{self.host} gave no answer in time ({type(exc).__name__})")
        return Unreachable(f"{self.host}: {self.tokens.scrub(type(exc).__name__)}")


def _where(path: str) -> str:
    """A request's path for messages, without its query (which may carry anything)."""
    return httpx.URL(path).path or path
