"""The HTTP layer every HTTP provider shares, against loopback servers: pagination,
ETags, retries and backoff that honour the rate-limit headers without hammering,
typed errors, tokens from the environment or a command and never in a message."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from providers.base import AuthError, BadResponse, NotFound, ProviderTimeout, Unreachable
from providers.http import HttpClient, HttpSettings, RateLimit, RateLimited
from providers.http.pacing import Pacer
from providers.http.settings import check, parse
from tests.ci_support import loopback_server

TOKEN = "ghp_secretSECRETsecretSECRETsecret0000"
# A token command that prints the token and then fails: its output is never repeated.
LEAKY = "import os, sys; print(os.environ['API_TOKEN']); sys.exit(3)"


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    yield from loopback_server()


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TOKEN", TOKEN)


class Waits:
    """Records the client's backoff pauses instead of sleeping them."""

    def __init__(self) -> None:
        self.pauses: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)


def client(server: HTTPServer, waits: Waits | None = None, **settings: object) -> HttpClient:
    values = {"api_url": server.url_for("/api"), "token_env": "API_TOKEN",
              "max_retry_wait": 30, **settings}  # fmt: skip
    return HttpClient(parse(values, ""), sleep=waits or Waits())


def reset_in(seconds: int) -> str:
    return str(int(time.time()) + seconds)


async def test_pages_follow_the_link_header(server: HTTPServer) -> None:
    def page(request: Request) -> Response:
        n = int(request.args.get("page", 1))
        link = {} if n == 3 else {"Link": f'<{server.url_for("/api/items")}?page={n + 1}>; '
                                          'rel="next", <x>; rel="last"'}  # fmt: skip
        return Response(json.dumps({"items": [n * 10, n * 10 + 1]}), headers=link,
                        content_type="application/json")  # fmt: skip

    server.expect_request("/api/items").respond_with_handler(page)
    api = client(server)
    try:
        assert await api.pages("items", key="items") == [10, 11, 20, 21, 30, 31]
    finally:
        await api.close()
    assert [r.args.get("page") for r, _ in server.log] == [None, "2", "3"]


async def test_an_unchanged_answer_is_a_304_served_from_the_etag_cache(server: HTTPServer) -> None:
    def conditional(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"X-RateLimit-Remaining": "4999",
                                                 "X-RateLimit-Limit": "5000",
                                                 "X-RateLimit-Reset": reset_in(600)})  # fmt: skip
        return Response(json.dumps({"n": 1}), headers={"ETag": '"v1"'},
                        content_type="application/json")  # fmt: skip

    server.expect_request("/api/thing").respond_with_handler(conditional)
    api = client(server)
    try:
        assert await api.get("thing") == {"n": 1}
        assert await api.get("thing") == {"n": 1}
    finally:
        await api.close()
    assert (api.stats.sent, api.stats.charged, api.stats.not_modified) == (2, 1, 1)
    assert api.rate is not None and api.rate.remaining == 4999


async def test_429_waits_for_retry_after_then_succeeds(server: HTTPServer) -> None:
    server.expect_ordered_request("/api/x").respond_with_response(
        Response("{}", 429, headers={"Retry-After": "7"}))  # fmt: skip
    server.expect_ordered_request("/api/x").respond_with_json({"ok": True})
    waits = Waits()
    api = client(server, waits)
    try:
        assert await api.get("x") == {"ok": True}
    finally:
        await api.close()
    assert waits.pauses == [7.0]
    assert len(server.log) == 2


async def test_a_spent_rate_limit_waits_for_the_reset_when_it_is_near(server: HTTPServer) -> None:
    spent = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0",
             "X-RateLimit-Reset": reset_in(20)}  # fmt: skip
    server.expect_ordered_request("/api/x").respond_with_response(
        Response(json.dumps({"message": "API rate limit exceeded"}), 403, headers=spent)
    )
    server.expect_ordered_request("/api/x").respond_with_json({"ok": True})
    waits = Waits()
    api = client(server, waits)
    try:
        assert await api.get("x") == {"ok": True}
    finally:
        await api.close()
    assert len(waits.pauses) == 1 and 15 <= waits.pauses[0] <= 21


async def test_a_far_reset_fails_at_once_without_hammering(server: HTTPServer) -> None:
    spent = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0",
             "X-RateLimit-Reset": reset_in(1800)}  # fmt: skip
    server.expect_request("/api/x").respond_with_response(
        Response(json.dumps({"message": "API rate limit exceeded"}), 403, headers=spent)
    )
    waits = Waits()
    api = client(server, waits)
    try:
        with pytest.raises(RateLimited) as caught:
            await api.get("x")
    finally:
        await api.close()
    assert len(server.log) == 1 and waits.pauses == []
    assert str(caught.value).startswith("rate limited: /api/x: 403 rate limit reached")
    assert "0 of 5000 left, resets in 29m" in str(caught.value) or "resets in 30m" in str(
        caught.value
    )


async def test_429s_stop_after_the_configured_retries(server: HTTPServer) -> None:
    server.expect_request("/api/x").respond_with_response(
        Response("{}", 429, headers={"Retry-After": "1"})
    )
    waits = Waits()
    api = client(server, waits, retries=2)
    try:
        with pytest.raises(RateLimited):
            await api.get("x")
    finally:
        await api.close()
    assert len(server.log) == 3 and waits.pauses == [1.0, 1.0]


async def test_5xx_is_retried_with_backoff_for_reads_only(server: HTTPServer) -> None:
    server.expect_request("/api/x").respond_with_response(Response("oops", 500))
    waits = Waits()
    api = client(server, waits, retries=3)
    try:
        with pytest.raises(BadResponse, match="500"):
            await api.get("x")
        assert len(server.log) == 4 and waits.pauses == [0.5, 1.0, 2.0]
        server.clear_log()
        with pytest.raises(BadResponse, match="500"):
            await api.post("x", {"a": 1})
        assert len(server.log) == 1  # a POST might have been applied: never repeated
    finally:
        await api.close()


async def test_errors_are_typed_and_never_carry_the_token(server: HTTPServer) -> None:
    server.expect_request("/api/bad-token").respond_with_json(
        {"message": f"Bad credentials for {TOKEN}"}, status=401
    )
    server.expect_request("/api/missing").respond_with_json({"message": "Not Found"}, status=404)
    server.expect_request("/api/forbidden").respond_with_json({"message": "nope"}, status=403)
    server.expect_request("/api/garbled").respond_with_data(
        "{not json", content_type="application/json"
    )
    api = client(server)
    try:
        with pytest.raises(AuthError) as bad:
            await api.get("bad-token")
        with pytest.raises(NotFound):
            await api.get("missing")
        with pytest.raises(AuthError, match="403 forbidden: nope"):
            await api.get("forbidden")
        with pytest.raises(BadResponse, match="not JSON"):
            await api.get("garbled")
    finally:
        await api.close()
    assert str(bad.value) == (
        "auth: /api/bad-token: 401 the token from $API_TOKEN was refused: "
        "Bad credentials for [token]"
    )
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r, _ in server.log)


async def test_a_hanging_server_is_a_timeout(server: HTTPServer) -> None:
    release = threading.Event()

    def hang(request: Request) -> Response:
        release.wait(10)
        return Response("{}")

    server.expect_request("/api/slow").respond_with_handler(hang)
    api = client(server, read_timeout=0.3)
    try:
        with pytest.raises(ProviderTimeout) as caught:
            await api.get("slow")
    finally:
        release.set()
        await api.close()
    assert TOKEN not in str(caught.value)


async def test_an_unreachable_host() -> None:
    api = HttpClient(HttpSettings(api_url="http://127.0.0.1:9", token_env="API_TOKEN"))
    try:
        with pytest.raises(Unreachable, match="127.0.0.1"):
            await api.get("x")
    finally:
        await api.close()


@pytest.fixture
def other() -> Iterator[HTTPServer]:
    yield from loopback_server()


async def test_a_redirect_is_followed_without_the_token(
    server: HTTPServer, other: HTTPServer
) -> None:
    other.expect_request("/blob").respond_with_data("line one\nline two\n")
    server.expect_request("/api/logs").respond_with_response(
        Response(status=302, headers={"Location": other.url_for("/blob") + "?sig=x"})
    )
    api = client(server)
    try:
        assert await api.text("logs") == "line one\nline two\n"
    finally:
        await api.close()
    ((download, _),) = other.log
    assert "Authorization" not in download.headers


async def test_the_token_comes_from_a_command_run_without_a_shell(server: HTTPServer) -> None:
    server.expect_request("/api/me").respond_with_json({"ok": True})
    script = "import sys; print('cmd-token-' + sys.argv[1])"
    api = client(server, token_env=None,
                 token_command=[sys.executable, "-c", script, "$HOME;echo"])  # fmt: skip
    try:
        await api.get("me")
    finally:
        await api.close()
    ((request, _),) = server.log
    assert request.headers["Authorization"] == "Bearer cmd-token-$HOME;echo"


async def test_a_token_command_that_fails_or_hangs_is_one_clear_line(server: HTTPServer) -> None:
    failing = client(server, token_env=None,
                     token_command=[sys.executable, "-c", LEAKY])  # fmt: skip
    with pytest.raises(AuthError) as caught:
        await failing.get("x")
    assert "exited with status 3" in str(caught.value) and TOKEN not in str(caught.value)
    sleepy = [sys.executable, "-c", "import time; time.sleep(5)"]
    hanging = client(server, token_env=None, token_timeout=0.3, token_command=sleepy)
    with pytest.raises(AuthError, match="gave no answer in 0.3s"):
        await hanging.get("x")
    missing = client(server, token_env="NO_SUCH_TOKEN_VAR")
    with pytest.raises(AuthError, match=r"\$NO_SUCH_TOKEN_VAR is not set"):
        await missing.get("x")
    assert server.log == []


def test_settings_refuse_credentials_and_name_the_key() -> None:
    problems = dict(
        check({"api_url": "https://user:pw@ghe.example/api/v3", "token_env": "ghp_x y"})
    )
    assert problems["api_url"].startswith("must not carry credentials")
    assert "not a value" in problems["token_env"]
    assert "a token source is needed" in dict(check({}))["token_env"]
    both = dict(check({"token_env": "T", "token_command": ["gh", "auth", "token"]}))
    assert both["token_command"] == "cannot be combined with token_env: choose one"
    assert dict(check({"token_command": ["gh", "auth", "token"], "retries": -1}))["retries"]
    assert "none of them empty" in dict(check({"token_command": ["gh", ""]}))["token_command"]


def test_pace_spreads_what_is_left_until_the_reset() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    plenty = RateLimit(5000, 4000, now + timedelta(minutes=30))
    assert plenty.pace(now, 30) == timedelta(0)
    low = RateLimit(5000, 550, now + timedelta(minutes=30))
    # 550 left, 250 kept back: 10 cycles of 30 over the 30 minutes.
    assert low.pace(now, 30) == timedelta(minutes=3)
    spent = RateLimit(5000, 200, now + timedelta(minutes=30))
    assert spent.pace(now, 30) == timedelta(minutes=30)
    assert low.pace(now, 0) == timedelta(0)


async def test_a_low_budget_slows_polling_down(server: HTTPServer) -> None:
    low = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "400",
           "X-RateLimit-Reset": reset_in(3600)}  # fmt: skip
    server.expect_request("/api/x").respond_with_json({"n": 1}, headers=low)
    api = client(server)
    pacer = Pacer(api)
    try:
        assert pacer.due()
        pacer.start()
        await api.get("x")
        pacer.finish()
    finally:
        await api.close()
    assert not pacer.due() and pacer.slowed
    assert "400 of 5000 left" in pacer.describe() and "polling slowed" in pacer.describe()


def test_gitlab_rate_limit_headers_are_read_too() -> None:
    found = RateLimit.from_headers(
        {"RateLimit-Limit": "2000", "RateLimit-Remaining": "12", "RateLimit-Reset": "1900000000"}
    )
    assert found == RateLimit(2000, 12, datetime.fromtimestamp(1900000000, UTC))
    assert RateLimit.from_headers({"RateLimit-Limit": "x"}) is None


async def test_a_secondary_rate_limit_403_is_rate_limited_not_forbidden(server: HTTPServer) -> None:
    server.expect_request("/api/x").respond_with_response(
        Response(json.dumps({"message": "You have exceeded a secondary rate limit"}), 403,
                 headers={"Retry-After": "60"}))  # fmt: skip
    waits = Waits()
    api = client(server, waits, max_retry_wait=5)
    try:
        with pytest.raises(RateLimited, match=r"403 rate limit reached \(retry after 60s\)"):
            await api.get("x")
    finally:
        await api.close()
    assert len(server.log) == 1 and waits.pauses == []


async def test_each_page_of_a_listing_keeps_its_own_etag(server: HTTPServer) -> None:
    """A Link header's next page carries its query; its ETag is kept under that query,
    so a second poll of an unchanged two-page listing is two 304s."""

    def page(request: Request) -> Response:
        n = int(request.args.get("page", 1))
        etag = f'"page{n}"'
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        link = {"Link": f'<{server.url_for("/api/items")}?page=2>; rel="next"'} if n == 1 else {}
        return Response(json.dumps({"items": [n]}), headers={"ETag": etag, **link},
                        content_type="application/json")  # fmt: skip

    server.expect_request("/api/items").respond_with_handler(page)
    api = client(server)
    try:
        assert await api.pages("items", key="items") == [1, 2]
        assert await api.pages("items", key="items") == [1, 2]
    finally:
        await api.close()
    assert (api.stats.charged, api.stats.not_modified) == (2, 2)
