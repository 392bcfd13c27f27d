"""One client's connections spread over a few small connection pools.

httpcore's pool rescans every connection it holds each time a request is queued or
released, so its cost grows with the square of its size: on the build machine, 60
concurrent requests over 60 kept-alive connections in one pool spent about two
seconds of CPU in that scan, more than the requests took (see bench/README.md).
Pools of `POOL_SIZE` keep the scan short; requests take them in turn, and the
total of connections stays the block's `max_connections`.
"""

from __future__ import annotations

import itertools
import math

import httpx

POOL_SIZE = 8


class PooledTransport(httpx.AsyncBaseTransport):
    def __init__(self, max_connections: int) -> None:
        count = max(1, math.ceil(max_connections / POOL_SIZE))
        # Sizes as even as they go and adding up to `max_connections` exactly, so the
        # pools together never hold more sockets than the block allows.
        base, extra = divmod(max(max_connections, count), count)
        self.pools = [
            httpx.AsyncHTTPTransport(
                limits=httpx.Limits(max_connections=n, max_keepalive_connections=n)
            )
            for n in [base + 1] * extra + [base] * (count - extra)
        ]
        self._turn = itertools.cycle(self.pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await next(self._turn).handle_async_request(request)

    async def aclose(self) -> None:
        for pool in self.pools:
            await pool.aclose()
