"""The sockets under httpx, on asyncio's own streams instead of anyio's.

httpcore's default backend reaches asyncio through anyio: every read and write opens
a cancel scope, and every time a pool looks for a free connection it asks each idle
one whether its server hung up, a question anyio answers by building a table of the
socket's attributes (a `getpeername` call among them) to find the socket. Over the
60 requests of a refresh that was about a third of the client's CPU (see
bench/README.md). Here the stream keeps its socket and reader, so that question is
one look at the reader and one `poll`, and a read or a write is asyncio's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore

SocketOption = tuple[int, int, Any] | tuple[int, int, None, int]


class AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError:
            raise httpcore.ReadTimeout("no bytes came in time") from None
        except OSError as exc:
            raise httpcore.ReadError(str(exc)) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            async with asyncio.timeout(timeout):
                self._writer.write(buffer)
                await self._writer.drain()
        except TimeoutError:
            raise httpcore.WriteTimeout("the bytes could not be sent in time") from None
        except (OSError, RuntimeError) as exc:  # RuntimeError: written after a close
            raise httpcore.WriteError(str(exc)) from exc

    async def aclose(self) -> None:
        self._writer.close()
        # The close waiter is one future of the protocol, awaited by every close of this
        # stream: a read cancelled by its sibling's failure closes its connection as it
        # unwinds, and the pool closes it again when the client is closed. Unshielded,
        # the first closer's cancellation would cancel that future and the second close
        # would raise CancelledError in a task nobody cancelled.
        # Closed by the other side first, nothing is left to release.
        with contextlib.suppress(OSError, ssl.SSLError):
            await asyncio.shield(self._writer.wait_closed())

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError:
            await self.aclose()
            raise httpcore.ConnectTimeout("the TLS handshake took too long") from None
        except (OSError, ssl.SSLError) as exc:
            await self.aclose()
            raise httpcore.ConnectError(str(exc)) from exc
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return self._hung_up()
        name = {"ssl_object": "ssl_object", "client_addr": "sockname",
                "server_addr": "peername", "socket": "socket"}.get(info)  # fmt: skip
        return self._writer.get_extra_info(name) if name else None

    def _hung_up(self) -> bool:
        """Whether an idle connection has something to read, which can only be the
        server closing it: the reader saw the end, or bytes wait on the socket."""
        if self._reader.at_eof() or self._writer.is_closing():
            return True
        sock = self._writer.get_extra_info("socket")
        if sock is None or sock.fileno() < 0:
            return True
        poll = select.poll()
        poll.register(sock.fileno(), select.POLLIN)
        return bool(poll.poll(0))


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(host, port, local_addr=local)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"no connection to {host} in time") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        sock: socket.socket = writer.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(reader, writer)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
