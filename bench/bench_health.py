"""Health probing: one cycle over 200 services against the slowest endpoint alone.

A loopback server in its own process answers every service's `/health` (and, in the
second run, `/ready` and `/metrics`) after a delay of its own, spread from 100 ms to
the slowest endpoint's 1 s, and counts the connections open at once. Measured side by
side, alternating: one probe of the slowest endpoint alone, and one whole cycle of
the health provider, with the CPU time the cycle itself used (on a loaded machine the
wall time is that CPU time stretched by the other processes' share). Target:
cycle / slowest <= 1.3, and never more connections open than `max_connections`.

    python bench/bench_health.py [--services N] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path

from providers.base import ProviderContext
from providers.health import HealthProvider

SLOWEST = 1.0
PAGE = (
    "# TYPE http_requests_total counter\n"
    'http_requests_total{code="200"} 990\nhttp_requests_total{code="500"} 10\n'
    "# TYPE http_request_duration_seconds histogram\n"
    'http_request_duration_seconds_bucket{le="0.1"} 900\n'
    'http_request_duration_seconds_bucket{le="0.5"} 995\n'
    'http_request_duration_seconds_bucket{le="+Inf"} 1000\n'
    "http_request_duration_seconds_count 1000\nhttp_request_duration_seconds_sum 70\n"
)


def delay_of(service: int, services: int) -> float:
    """From 100 ms up to SLOWEST for the last service."""
    return 0.1 + (SLOWEST - 0.1) * service / max(1, services - 1)


def serve(port_out: multiprocessing.Queue, services: int) -> None:
    """The endpoints on one port, and on a second the most connections seen open at
    once on the first since the last look (`/_stats`)."""
    state = {"open": 0, "peak": 0}

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     stats: bool) -> None:  # fmt: skip
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            if stats:
                body = json.dumps({"peak": state["peak"]}).encode()
                state["peak"] = state["open"]
            else:
                service, _, check = path.strip("/").partition("/")
                await asyncio.sleep(delay_of(int(service.removeprefix("s")), services))
                body = (PAGE if check == "metrics" else '{"status":"healthy"}').encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()

    async def probes(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state["open"] += 1
        state["peak"] = max(state["peak"], state["open"])
        try:
            await answer(reader, writer, stats=False)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            state["open"] -= 1
            writer.close()

    async def control(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await answer(reader, writer, stats=True)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(probes, "127.0.0.1", 0, backlog=2048)
        stats = await asyncio.start_server(control, "127.0.0.1", 0)
        port_out.put((server.sockets[0].getsockname()[1], stats.sockets[0].getsockname()[1]))
        await server.serve_forever()

    asyncio.run(main())


async def measure(ports: tuple[int, int], alone_port: int, services: int,
                  checks: dict[str, str], limit: int,
                  rounds: int) -> tuple[list[float], list[float], list[float], int]:  # fmt: skip
    base = f"http://127.0.0.1:{ports[0]}"
    urls = {f"svc{i}": f"{base}/s{i}" for i in range(services)}
    context = ProviderContext(data_dir=Path(tempfile.mkdtemp()))
    settings = {"urls": urls, "paths": checks, "max_connections": limit, "timeout": 10.0}
    cycle_provider = HealthProvider("health", settings, context)
    # The slowest endpoint alone, on a server of its own so its connection is not counted.
    slowest = {**settings, "max_connections": 1,
               "urls": {"slowest": f"http://127.0.0.1:{alone_port}/s{services - 1}"},
               "paths": {"health": "/health", "ready": "", "metrics": ""}}  # fmt: skip
    alone_provider = HealthProvider("alone", slowest, context)
    stats = HealthProvider("stats", {"urls": {"x": base}}, context)._http()
    stats_url = f"http://127.0.0.1:{ports[1]}/_stats"
    alone, cycle, cpu, peak = [], [], [], 0
    try:
        await cycle_provider.probe_all()  # warm-up: imports, first connections
        await stats.get(stats_url)
        for _ in range(rounds):
            start = time.perf_counter()
            await alone_provider.probe_all()
            alone.append(time.perf_counter() - start)
            start, used = time.perf_counter(), time.process_time()
            snap = await cycle_provider.probe_all()
            cycle.append(time.perf_counter() - start)
            cpu.append(time.process_time() - used)
            failed = [t.message for t in snap.targets if t.status.value != "ready"]
            if failed:
                raise SystemExit(f"{len(failed)} services failed a probe: {failed[0]}")
            peak = max(peak, (await stats.get(stats_url)).json()["peak"])
    finally:
        for p in (cycle_provider, alone_provider):
            await p.close()
        await stats.aclose()
    return alone, cycle, cpu, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    ports: multiprocessing.Queue = multiprocessing.Queue()
    servers = [
        multiprocessing.Process(target=serve, args=(ports, args.services), daemon=True)
        for _ in range(2)
    ]
    for server in servers:
        server.start()
    cycle_ports, (alone_port, _) = ports.get(timeout=30), ports.get(timeout=30)
    n = args.services
    runs = [
        (f"{n} endpoints (/health), max_connections {n}", {"ready": "", "metrics": ""}, n),
        (f"{n} services x 3 probes, max_connections {3 * n}", {}, 3 * n),
        (f"{n} services x 3 probes, max_connections 64", {}, 64),
    ]
    try:
        for title, checks, limit in runs:
            alone, cycle, cpu, peak = asyncio.run(
                measure(cycle_ports, alone_port, n, checks, limit, args.rounds)
            )
            a, c = statistics.median(alone), statistics.median(cycle)
            print(
                f"{title}: slowest alone {a * 1000:.0f} ms, cycle {c * 1000:.0f} ms, "
                f"ratio {c / a:.2f}x (the cycle's own CPU {statistics.median(cpu) * 1000:.0f} ms); "
                f"connections open at once {peak} (bound {limit})"
            )
    finally:
        for server in servers:
            server.terminate()


if __name__ == "__main__":
    main()
