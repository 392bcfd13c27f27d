"""One client's connections spread over a few small connection pools, on asyncio.

httpcore's pool rescans every connection it holds each time a request is queued or
released, so its cost grows with the square of its size: on the build machine, 60
concurrent requests over 60 kept-alive connections in one pool spent about two
seconds of CPU in that scan, more than the requests took (see bench/README.md).
Pools of `POOL_SIZE` keep the scan short (pools of four make about a quarter fewer
Python calls per refresh than pools of eight); requests take them in turn, and the
total of connections stays the block's `max_connections`. Each pool's sockets are
asyncio's own (`providers.http.network`), not anyio's.
"""

from __future__ import annotations

import itertools
import math
import ssl

import httpcore
import httpx

from providers.http.network import AsyncioBackend

POOL_SIZE = 4
# httpx's own default: an idle connection is closed after this many seconds.
KEEPALIVE_EXPIRY = 5.0


class PooledTransport(httpx.AsyncBaseTransport):
    def __init__(self, max_connections: int) -> None:
        count = max(1, math.ceil(max_connections / POOL_SIZE))
        # Sizes as even as they go and adding up to `max_connections` exactly, so the
        # pools together never hold more sockets than the block allows.
        base, extra = divmod(max(max_connections, count), count)
        tls = httpx.create_ssl_context()  # one for every pool: each costs a CA bundle read
        self.pools = [pool(n, tls) for n in [base + 1] * extra + [base] * (count - extra)]
        self._turn = itertools.cycle(self.pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await next(self._turn).handle_async_request(request)

    async def aclose(self) -> None:
        for each in self.pools:
            await each.aclose()


def pool(size: int, tls: ssl.SSLContext) -> httpx.AsyncHTTPTransport:
    """httpx's transport (its request and error mapping) over an httpcore pool of `size`
    on asyncio sockets. httpx takes no network backend of its own, so the pool it
    built is replaced by one given ours (`network_backend` is httpcore's public API).
    """
    transport = httpx.AsyncHTTPTransport(
        verify=tls, limits=httpx.Limits(max_connections=size, max_keepalive_connections=size)
    )
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=tls,
        max_connections=size,
        max_keepalive_connections=size,
        keepalive_expiry=KEEPALIVE_EXPIRY,
        network_backend=AsyncioBackend(),
    )
    return transport
