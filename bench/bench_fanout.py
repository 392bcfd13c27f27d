"""Fan-out: one refresh cycle over eight providers that each answer after 300 ms.

The hub polls providers concurrently, so a cycle should last about as long as the
slowest provider, not the sum. Both are measured side by side in this run: the
slowest provider polled alone, and a full cycle of all eight, alternated.
Target: cycle / slowest <= 1.2.

    python bench/bench_fanout.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
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


if __name__ == "__main__":
    main()
