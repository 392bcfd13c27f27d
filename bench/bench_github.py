"""GitHub polling: what ETags save, and how long a refresh over 30 repositories takes.

A GitHub-shaped API runs on loopback in its own process (the workflow-runs listing,
with ETags, 304s that cost no rate limit, and `X-RateLimit-*` headers). Two
measurements, each side by side in this run:

1. 30 repositories with two workflows each, polled every 10 s for 10 minutes of
   simulated time while a new run lands in some repository every simulated 20 s:
   the requests that cost rate limit (every answer but a 304) with ETags against
   the same polling without them. Target: at least 5x fewer.
2. One refresh cycle over the 30 repositories (60 requests), each answering after
   its own latency (50-300 ms), against a refresh of the slowest repository alone,
   alternated, medians, both providers open as in a running console. Target:
   cycle / slowest <= 1.2.

    python bench/bench_github.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import multiprocessing.connection
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from providers.base import ProviderContext
from providers.github import GitHubProvider

REPOS = [f"collective/repo{i:02d}" for i in range(30)]
WORKFLOWS = {"ci.yml": "ci", "deploy.yml": "production"}
POLL = 10  # simulated seconds between polls
MINUTES = 10
NEW_RUN_EVERY = 20  # simulated seconds between runs landing somewhere


class World:
    """The runs of every repository, the simulated clock, and what the API charged."""

    def __init__(self) -> None:
        self.runs: dict[tuple[str, str], int] = {}
        self.latency: dict[str, float] = {}
        self.charged = self.not_modified = 0
        self.reset(latency=False)

    def reset(self, latency: bool) -> None:
        self.runs = {(r, w): 1 for r in REPOS for w in WORKFLOWS}
        for i, repo in enumerate(REPOS):
            self.latency[repo] = 0.05 + 0.25 * i / (len(REPOS) - 1) if latency else 0.0
        self.charged = self.not_modified = 0

    def advance(self, now: int) -> None:
        """At simulated second `now`, a new run lands every NEW_RUN_EVERY seconds."""
        if now and now % NEW_RUN_EVERY == 0:
            n = now // NEW_RUN_EVERY
            key = (REPOS[(n * 7) % len(REPOS)], list(WORKFLOWS)[n % len(WORKFLOWS)])
            self.runs[key] += 1

    def body(self, repo: str, workflow: str) -> bytes:
        number = self.runs[(repo, workflow)]
        run = {
            "id": number * 1000 + REPOS.index(repo), "name": workflow,
            "path": f".github/workflows/{workflow}", "head_branch": "main",
            "head_sha": hashlib.sha1(f"{repo}{workflow}{number}".encode()).hexdigest(),
            "run_number": number, "run_attempt": 1, "event": "push", "status": "completed",
            "conclusion": "success", "created_at": "2026-03-01T10:00:00Z",
            "run_started_at": "2026-03-01T10:00:00Z", "updated_at": "2026-03-01T10:03:00Z",
            "actor": {"login": "octocat"},
        }  # fmt: skip
        return json.dumps({"total_count": 1, "workflow_runs": [run]}).encode()


async def answer(world: World, target: str, headers: dict[str, str]) -> tuple[int, dict, bytes]:
    """Status, headers and body for one GET (the runs listing, or the bench's controls)."""
    if target.startswith("/control/"):
        verb, _, arg = target.removeprefix("/control/").partition("/")
        if verb == "reset":
            world.reset(latency=arg == "latency")
        elif verb == "advance":
            world.advance(int(arg))
        counters = {"charged": world.charged, "not_modified": world.not_modified}
        return 200, {}, json.dumps(counters).encode()
    found = _RUNS.match(target)
    if not found:
        return 404, {}, b"{}"
    repo, workflow = found.groups()
    await asyncio.sleep(world.latency[repo])
    body = world.body(repo, workflow)
    etag = '"' + hashlib.sha1(body).hexdigest() + '"'
    limits = {"X-RateLimit-Limit": "1000000", "X-RateLimit-Remaining": "999000",
              "X-RateLimit-Reset": str(int(time.time()) + 3600), "ETag": etag}  # fmt: skip
    if headers.get("if-none-match") == etag:
        world.not_modified += 1
        return 304, limits, b""
    world.charged += 1
    return 200, {**limits, "Content-Type": "application/json"}, body


_RUNS = re.compile(r"^/repos/([^/]+/[^/]+)/actions/workflows/([^/]+)/runs")
_REASONS = {200: "OK", 304: "Not Modified", 404: "Not Found"}


async def serve(world: World, ready: multiprocessing.connection.Connection) -> None:
    """A keep-alive HTTP/1.1 server on asyncio: a slow answer holds only its own request."""

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                lines = head.decode().split("\r\n")
                target = lines[0].split(" ")[1]
                headers = dict(
                    (k.strip().lower(), v.strip())
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                )
                status, extra, body = await answer(world, target, headers)
                out = [f"HTTP/1.1 {status} {_REASONS[status]}", f"Content-Length: {len(body)}"]
                out += [f"{k}: {v}" for k, v in extra.items()]
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", 0, backlog=256)
    ready.send(server.sockets[0].getsockname()[1])
    await server.serve_forever()


def run_server(ready: multiprocessing.connection.Connection) -> None:
    """The API in its own process, so its work does not share the client's interpreter."""
    asyncio.run(serve(World(), ready))


def control(url: str, what: str) -> dict[str, int]:
    return httpx.get(f"{url}/control/{what}").json()


def provider(url: str, repos: list[str], *, etags: bool = True) -> GitHubProvider:
    settings = {"repos": repos, "api_url": url, "token_env": "BENCH_TOKEN",
                "workflows": WORKFLOWS}  # fmt: skip
    built = GitHubProvider("ci", settings, ProviderContext(data_dir=Path(tempfile.mkdtemp())))
    built.client.conditional = etags
    return built


async def polled(url: str, *, etags: bool) -> dict[str, int]:
    """What 10 simulated minutes of polling cost in rate limit."""
    control(url, "reset/none")
    gh = provider(url, REPOS, etags=etags)
    try:
        for now in range(0, MINUTES * 60, POLL):
            for second in range(now - POLL + 1, now + 1):
                if second > 0 and second % NEW_RUN_EVERY == 0:
                    control(url, f"advance/{second}")
            await gh.snapshot()
    finally:
        await gh.close()
    return control(url, "counters")


async def cycles(
    url: str, rounds: int, *, etags: bool
) -> tuple[list[float], list[float], list[float]]:
    """Refreshes of the slowest repository alone and of all 30, alternated.

    Both providers stay open, as in a running console (connections kept alive).
    Without ETags every answer is a 200 with its body; with them, as a console
    polls, the unchanged listings come back as 304s (after the same latency).
    """
    control(url, "reset/latency")
    slowest = provider(url, REPOS[-1:], etags=etags)
    every = provider(url, REPOS, etags=etags)
    alone, full, cpu = [], [], []
    try:
        for gh in (slowest, every):  # a first cycle opens the connections
            await gh.snapshot()
        for _ in range(rounds):
            for gh, out in ((slowest, alone), (every, full)):
                start, used = time.perf_counter(), time.process_time()
                snapshot = await gh.snapshot()
                out.append(time.perf_counter() - start)
                if gh is every:
                    cpu.append(time.process_time() - used)
                assert len(snapshot.targets) == len(gh.config.repos) * len(WORKFLOWS)
    finally:
        await slowest.close()
        await every.close()
    return alone, full, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    os.environ["BENCH_TOKEN"] = "bench-token"
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(target=run_server, args=(theirs,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{ours.recv()}"
    try:
        with_etags = asyncio.run(polled(url, etags=True))
        without = asyncio.run(polled(url, etags=False))
        ratio = without["charged"] / with_etags["charged"]
        polls = MINUTES * 60 // POLL
        print(f"polling {len(REPOS)} repositories x {len(WORKFLOWS)} workflows, {polls} polls "
              f"over {MINUTES} simulated minutes")  # fmt: skip
        print(f"rate-limit-costing requests without ETags: {without['charged']}")
        print(f"rate-limit-costing requests with ETags:    {with_etags['charged']} "
              f"({with_etags['not_modified']} answered 304)")  # fmt: skip
        print(f"ratio: {ratio:.1f}x fewer (target >= 5x) {'OK' if ratio >= 5 else 'MISS'}")
        for etags, label in ((False, "every answer a 200"), (True, "ETags, answers 304")):
            alone, full, cpu = asyncio.run(cycles(url, args.rounds, etags=etags))
            slow, cycle = statistics.median(alone), statistics.median(full)
            verdict = "OK" if cycle / slow <= 1.2 else "MISS"
            print(f"{label}: slowest repository alone {slow * 1000:.0f} ms, cycle of "
                  f"{len(REPOS)} repositories {cycle * 1000:.0f} ms (client CPU "
                  f"{statistics.median(cpu) * 1000:.0f} ms), medians of {args.rounds}: "
                  f"{cycle / slow:.3f}x (target <= 1.2x) {verdict}")  # fmt: skip
    finally:
        server.terminate()
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
