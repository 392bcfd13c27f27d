"""The sockets under the HTTP client (asyncio's streams under httpcore's pools):
TLS checked against the trusted certificates, and a kept-alive connection the
server closed while it sat idle never used for the next request."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from providers.base import Unreachable
from providers.http import HttpClient
from providers.http.network import AsyncioBackend
from providers.http.settings import parse
from tests.smtp_support import certificate


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[HTTPServer, Path]]:
    cert, key = certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context, threaded=True)
    server.start()
    try:
        yield server, cert
    finally:
        server.clear()
        server.stop()


def client(api_url: str) -> HttpClient:
    return HttpClient(parse({"api_url": api_url}, ""))


async def test_an_https_api_is_read_over_tls_only_with_a_trusted_certificate(
    tls_server: tuple[HTTPServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, cert = tls_server
    server.expect_request("/api/ping").respond_with_json({"pong": True})
    untrusted = client(server.url_for("/api"))
    try:
        with pytest.raises(Unreachable):
            await untrusted.get("ping")
    finally:
        await untrusted.close()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    trusted = client(server.url_for("/api"))
    try:
        assert server.url_for("/api").startswith("https://")
        assert await trusted.get("ping") == {"pong": True}
        assert await trusted.get("ping") == {"pong": True}  # again, on the kept connection
    finally:
        await trusted.close()


async def test_a_connection_the_server_closed_while_idle_is_not_used_again() -> None:
    """The server answers with keep-alive, then hangs up; the next request must open a
    new connection rather than fail on the dead one."""
    connections = 0
    hung_up = asyncio.Event()

    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        body = json.dumps({"connection": connections}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: keep-alive\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        hung_up.set()

    server = await asyncio.start_server(answer_once, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    api = client(f"http://127.0.0.1:{port}")
    try:
        assert await api.get("first") == {"connection": 1}
        await hung_up.wait()
        assert await api.get("second") == {"connection": 2}
    finally:
        await api.close()
        server.close()
        await server.wait_closed()


async def test_a_closer_cancelled_while_closing_does_not_break_the_next_close() -> None:
    """A read cancelled by its sibling's failure closes its connection as it unwinds;
    the pool closes the same connection again when the client is closed. The first
    close being cancelled must not make the second raise CancelledError."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port)
        first = asyncio.create_task(stream.aclose())
        await asyncio.sleep(0)  # the first closer now waits for the close
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        await stream.aclose()  # the pool's close, from a task nobody cancelled
    finally:
        server.close()
        await server.wait_closed()
