"""Fan-out: one refresh cycle over eight providers that each answer after 300 ms.

The hub polls providers concurrently, so a cycle should last about as long as the
slowest provider, not the sum. Both are measured side by side in this run: the
slowest provider polled alone, and a full cycle of all eight, alternated.
Target: cycle / slowest <= 1.2.

Blocking: seven of those providers polled with an eighth whose snapshot blocks its
thread for 300 ms (`time.sleep`, as synchronous work would; it declares `blocking`),
against the seven alone, alternated. Measured: the seven's poll time, and how late
a 10 ms ticker on the loop runs meanwhile (what a key press would wait), the worst.
Target: the seven's time and the ticker's lateness <= 1.2x without the blocker.

    python bench/bench_fanout.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path

from console.domain.model import RolloutStatus, Snapshot, Target, TargetRef, utcnow
from console.domain.settings import Config
from console.engine.hub import Hub
from console.engine.session import Session
from providers.base import Provider, ProviderContext

DELAY = 0.3


class Slow(Provider):
    """Answers after DELAY seconds with forty targets, like a modest real backend."""

    kind = "slow"

    async def snapshot(self) -> Snapshot:
        await asyncio.sleep(DELAY)
        targets = tuple(
            Target(TargetRef(self.name, f"svc{i}", "production"), "v1", RolloutStatus.READY, 2, 2)
            for i in range(40)
        )
        return Snapshot(self.name, targets, utcnow())


class Blocker(Slow):
    """Blocks its thread for DELAY seconds inside snapshot(), as synchronous work does."""

    kind = "blocker"
    blocking = True

    async def snapshot(self) -> Snapshot:
        time.sleep(DELAY)
        return Snapshot(self.name, (), utcnow())


async def ticked(work: Awaitable[object]) -> tuple[float, list[float]]:
    """The time `work` takes, and the lateness of a 10 ms ticker on the loop meanwhile."""
    loop = asyncio.get_running_loop()
    late: list[float] = []
    done = False

    async def ticker() -> None:
        while not done:
            due = loop.time() + 0.01
            await asyncio.sleep(0.01)
            late.append(max(0.0, loop.time() - due))

    ticking = asyncio.create_task(ticker())
    start = time.perf_counter()
    await work
    took = time.perf_counter() - start
    done = True
    await ticking
    return took, late


async def beside(hub: Hub, seven: list[str], started: list[asyncio.Task[object]]) -> None:
    """The seven polls with the blocking one started first, as one provider among others."""
    started.append(asyncio.create_task(hub.poll("blocker")))
    await asyncio.gather(*(hub.poll(n) for n in seven))


async def measure_blocking(rounds: int) -> dict[str, list[float]]:
    data_dir = Path(tempfile.mkdtemp())
    context = ProviderContext(data_dir=data_dir)
    providers: dict[str, Provider] = {f"p{i}": Slow(f"p{i}", {}, context) for i in range(7)}
    providers["blocker"] = Blocker("blocker", {}, context)
    hub = Hub(Session(Config(), data_dir, False, providers=providers), timeout=10)
    seven = [f"p{i}" for i in range(7)]
    found: dict[str, list[float]] = {"alone": [], "beside": [], "late alone": [], "late beside": []}
    for _ in range(rounds):
        took, late = await ticked(asyncio.gather(*(hub.poll(n) for n in seven)))
        found["alone"].append(took)
        found["late alone"] += late
        started: list[asyncio.Task[object]] = []
        took, late = await ticked(beside(hub, seven, started))
        await started[0]
        found["beside"].append(took)
        found["late beside"] += late
    assert hub.states["blocker"].error is None
    return found


async def measure(rounds: int) -> tuple[list[float], list[float]]:
    data_dir = Path(tempfile.mkdtemp())
    context = ProviderContext(data_dir=data_dir)
    providers = {f"p{i}": Slow(f"p{i}", {}, context) for i in range(8)}
    hub = Hub(Session(Config(), data_dir, False, providers=providers), timeout=10)
    alone, cycle = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        await hub.poll("p0")
        alone.append(time.perf_counter() - start)
        start = time.perf_counter()
        await hub.refresh_all()
        cycle.append(time.perf_counter() - start)
    assert len(hub.rows()) == 8 * 40
    return alone, cycle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    alone, cycle = asyncio.run(measure(args.rounds))
    slowest, full = statistics.median(alone), statistics.median(cycle)
    ratio = full / slowest
    print(f"slowest provider alone: median {slowest * 1000:.0f} ms over {args.rounds} rounds")
    print(f"cycle of 8 providers:   median {full * 1000:.0f} ms")
    print(f"ratio cycle/slowest: {ratio:.3f}x (target <= 1.2x) {'OK' if ratio <= 1.2 else 'MISS'}")
    found = asyncio.run(measure_blocking(args.rounds))
    alone, beside = statistics.median(found["alone"]), statistics.median(found["beside"])
    print(
        f"seven providers alone {alone * 1000:.0f} ms, beside one blocking 300 ms "
        f"{beside * 1000:.0f} ms: {beside / alone:.3f}x (target <= 1.2x)"
    )
    quiet, loaded = max(found["late alone"]), max(found["late beside"])
    print(
        f"loop ticker lateness, worst: {quiet * 1000:.1f} ms alone, {loaded * 1000:.1f} ms beside "
        f"the blocking provider ({loaded / quiet:.2f}x, target <= 1.2x)"
    )


if __name__ == "__main__":
    main()
