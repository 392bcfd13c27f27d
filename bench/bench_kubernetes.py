"""Kubernetes provider costs at size, each beside its baseline in the same run.

The API servers are kmock KubernetesEmulators in a separate process (one per
kubeconfig context), so serving JSON does not share the measuring process's GIL.

snapshot: 10,000 pods and 1,000 Deployments over 3 contexts. Time until every
provider's first snapshot is complete (list, watch start, cache, targets) against
a bare `list_*_for_all_namespaces` of the same kinds decoded into the client's
models, the three contexts in parallel threads as the provider does. Target <= 1.5x.
watch: a Deployment patched over HTTP until `wait_changed()` + `snapshot()` shows
it: p50/p95 over N events. memory: resident set size of this process at that size
(target <= 300 MB).
logs: a pod writing 5,000 lines/s (its nine siblings one line a second), followed
twice: by the provider's stream alone, and by the console's Logs pane (the app run
headless, the target selected as a person would find it first in the table). Each
time the newest line's lag behind its timestamp, p50/p95/max, sampled every 0.25 s,
and resident memory over the first and the last quarter (flat).

Run: python bench/bench_kubernetes.py [--pods N] [--deployments N] [--events N]
                                       [--log-seconds S] [--rate LINES_PER_S]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# --- the server process -------------------------------------------------------------


def serve(contexts: int, pods: int, deployments: int, rate: int) -> None:
    """Seed one emulator per context, print their ports, serve until stdin closes."""
    import kmock

    from tests.k8s_fixtures import Cluster, at, deployment, pod, replicaset

    clusters = []
    per_deployment = max(1, pods // deployments)
    for c in range(contexts):
        cluster = Cluster()
        share = deployments // contexts + (1 if c < deployments % contexts else 0)
        for d in range(share):
            namespace = f"team-{d % 4}"
            dep = deployment(f"svc-{c}-{d}", namespace, f"registry.example/svc:{d}.0",
                             replicas=per_deployment)  # fmt: skip
            rs = replicaset(dep, 1, dep["spec"]["template"], replicas=per_deployment)
            cluster.add(dep)
            made = [pod(rs, f"p{i:04d}") for i in range(per_deployment)]
            cluster.add(*made)
            if c == 0 and d == 0:
                loud = made[0]["metadata"]["name"]  # the chatty pod, of svc-0-0 in team-0
        clusters.append(cluster)

    chatty = clusters[0]

    async def flood(request):
        if request.name != loud:  # the other pods: a line a second
            while True:
                yield f"{at(datetime.now(UTC))} GET /healthz 200\n".encode()
                await asyncio.sleep(1.0)
        batch = max(1, rate // 100)
        count = 0
        start = time.monotonic()
        while True:
            now = datetime.now(UTC)
            yield b"".join(
                f"{at(now)} GET /api/orders/{count + i} 200 0.{i:03d}s\n".encode()
                for i in range(batch)
            )
            count += batch
            delay = start + count / rate - time.monotonic()
            await asyncio.sleep(max(0.0, delay))

    chatty.react((kmock.resource("", "v1", "pods"), kmock.subresource("log")), flood)
    print(json.dumps({"ports": [c.port for c in clusters], "loud": loud}), flush=True)
    sys.stdin.read()
    for cluster in reversed(clusters):  # kmock's resolver hooks unwind last-in first-out
        cluster.close()


# --- measurements -------------------------------------------------------------------


def kubeconfig(path: Path, ports: list[int]) -> Path:
    import yaml

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": f"c{i}", "cluster": {"server": f"http://127.0.0.1:{p}"}}
            for i, p in enumerate(ports)
        ],
        "users": [{"name": "u", "user": {"token": "bench"}}],
        "contexts": [
            {"name": f"ctx{i}", "context": {"cluster": f"c{i}", "user": "u"}}
            for i in range(len(ports))
        ],
        "current-context": "ctx0",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def baseline(config: Path, contexts: int, models: bool = True) -> float:
    """Bare lists of every kind, all contexts in parallel, decoded into the client's
    models (the usual way) or, with `models=False`, only parsed as JSON (the floor)."""
    from kubernetes import client
    from kubernetes import config as kconfig

    def one(index: int) -> None:
        api = kconfig.new_client_from_config(str(config), context=f"ctx{index}")
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        calls = (
            core.list_pod_for_all_namespaces,
            apps.list_deployment_for_all_namespaces,
            apps.list_stateful_set_for_all_namespaces,
            apps.list_daemon_set_for_all_namespaces,
        )
        for call in calls:
            if models:
                call()
            else:
                json.loads(call(_preload_content=False).data)
        api.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(contexts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def providers_for(config: Path, contexts: int) -> list:
    from providers.base import ProviderContext
    from providers.kubernetes import KubernetesProvider

    made = []
    for i in range(contexts):
        p = KubernetesProvider(
            f"ctx{i}",
            {"kubeconfig": str(config), "context": f"ctx{i}"},
            ProviderContext(data_dir=Path(tempfile.mkdtemp())),
        )
        p.metrics_interval = 3600
        made.append(p)
    return made


async def first_snapshots(made: list) -> tuple[float, int, int]:
    start = time.perf_counter()
    snaps = await asyncio.gather(*(p.snapshot() for p in made))
    elapsed = time.perf_counter() - start
    targets = sum(len(s.targets) for s in snaps)
    pods = sum(len(p.cache.pods) for p in made)
    return elapsed, targets, pods


def patch(port: int, namespace: str, name: str, replicas: int) -> None:
    body = json.dumps({"spec": {"replicas": replicas}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
        data=body,
        method="PATCH",
        headers={"Content-Type": "application/merge-patch+json"},
    )
    urllib.request.urlopen(request, timeout=10).read()


async def watch_latency(made, port: int, events: int) -> list[float]:
    p = made[0]
    await p.snapshot()
    lags = []
    for n in range(events):
        replicas = 100 + n
        start = time.perf_counter()
        await asyncio.to_thread(patch, port, "team-0", "svc-0-0", replicas)
        while True:
            await p.wait_changed()
            snap = await p.snapshot()
            row = next(t for t in snap.targets if t.ref.target == "deployment/svc-0-0")
            if row.desired == replicas:
                break
        lags.append(time.perf_counter() - start)
    return lags


async def log_flood(made, seconds: float, loud: str) -> tuple[list[float], list[float], int, int]:
    from console.domain.model import TargetRef

    p = made[0]
    await p.snapshot()
    target = TargetRef("ctx0", "svc-0-0", "team-0", "deployment/svc-0-0")
    lags: list[float] = []
    memory: list[float] = []
    lines = dropped = 0
    stream = p.logs(target, follow=True, pod=loud)
    start = time.monotonic()
    next_sample = start
    async for line in stream:
        if line.source == "quorum":
            dropped += 1
            continue
        lines += 1
        now = time.monotonic()
        if now >= next_sample:
            lags.append((datetime.now(UTC) - line.ts).total_seconds())
            memory.append(rss_mb())
            next_sample = now + 0.25
        if now - start > seconds:
            break
    await stream.aclose()
    return lags, memory, lines, dropped


async def pane_flood(config: Path, seconds: float) -> tuple[list[float], list[float], int]:
    """The Logs pane following the chatty pod's target: every pod merged, as a person
    sees it. The app runs headless; lines go through the pane's batching and view."""
    from console.app import QuorumApp
    from tests.app_support import make_session

    (provider,) = providers_for(config, 1)
    app = QuorumApp(make_session(Path(tempfile.mkdtemp()), [provider]))
    lags: list[float] = []
    memory: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        while app.selected is None or app.selected.target.ref.service != "svc-0-0":
            await pilot.pause(0.1)  # the first row of the table, followed from the start
        view = app.logs.view
        while not view.lines:
            await pilot.pause(0.05)
        start = time.monotonic()
        shown = 0
        while time.monotonic() - start < seconds:
            await pilot.pause(0.25)
            newest = next((ln for ln in reversed(view.lines) if ln.source != "quorum"), None)
            if newest is not None:
                lags.append((datetime.now(UTC) - newest.ts).total_seconds())
            memory.append(rss_mb())
            shown = max(shown, len(view.lines))
    return lags, memory, shown


def flatness(memory: list[float]) -> str:
    """Resident memory over the first and the last quarter of a run: flat or growing."""
    quarter = max(1, len(memory) // 4)
    return (f"  resident memory: first quarter max {max(memory[:quarter]):.0f} MB, "
            f"last quarter max {max(memory[-quarter:]):.0f} MB")  # fmt: skip


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--contexts", type=int, default=3)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--deployments", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--log-seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=int, default=5_000)
    args = parser.parse_args()
    if args.serve:
        serve(args.contexts, args.pods, args.deployments, args.rate)
        return

    print(f"seeding {args.pods} pods, {args.deployments} deployments over "
          f"{args.contexts} contexts ...", flush=True)  # fmt: skip
    seeded = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--contexts", str(args.contexts),
         "--pods", str(args.pods), "--deployments", str(args.deployments),
         "--rate", str(args.rate)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    served = json.loads(server.stdout.readline())
    ports, loud = served["ports"], served["loud"]
    print(f"  seeded in {time.perf_counter() - seeded:.1f} s")
    config = kubeconfig(Path(tempfile.mkdtemp()) / "kubeconfig", ports)
    try:
        import kubernetes.client  # noqa: F401 - import cost outside both timings

        rss_before = rss_mb()
        made = providers_for(config, args.contexts)

        async def measured():
            took, targets, pods = await first_snapshots(made)
            memory = rss_mb()
            lags = await watch_latency(made, ports[0], args.events)
            return took, targets, pods, memory, lags

        took, targets, pods, memory, lags = asyncio.run(measured())
        # The baselines run after the providers, so the memory figure holds no garbage of theirs.
        base = min(baseline(config, args.contexts) for _ in range(2))
        floor = min(baseline(config, args.contexts, models=False) for _ in range(2))
        print("\nsnapshot at size")
        print(f"  bare list + model decode (best of 2): {base:.2f} s")
        print(f"  bare list + JSON parse only (floor):  {floor:.2f} s")
        print(f"  providers' first snapshots complete:   {took:.2f} s "
              f"({targets} targets, {pods} pods cached)")  # fmt: skip
        print(f"  ratio: {took / base:.2f}x against model decode (target <= 1.5x), "
              f"{took / floor:.2f}x against the JSON floor")  # fmt: skip
        print("\nwatch event -> snapshot updated")
        print(f"  p50 {statistics.median(lags) * 1000:.1f} ms, "
              f"p95 {pct(lags, 0.95) * 1000:.1f} ms over {len(lags)} events")  # fmt: skip
        print("\nmemory")
        print(f"  resident: {memory:.0f} MB (before the providers: {rss_before:.0f} MB; "
              "target <= 300 MB)")  # fmt: skip

        async def flood():
            try:
                return await log_flood(made, args.log_seconds, loud)
            finally:
                for p in made:
                    await p.close()

        log_lags, log_memory, lines, dropped = asyncio.run(flood())
        print(f"\nchatty pod: {args.rate} lines/s for {args.log_seconds:.0f} s, followed")
        print(f"  lines received {lines} ({lines / args.log_seconds:.0f}/s), "
              f"drop notices {dropped}")  # fmt: skip
        print(f"  newest-line lag p50 {statistics.median(log_lags) * 1000:.0f} ms, "
              f"p95 {pct(log_lags, 0.95) * 1000:.0f} ms, max {max(log_lags) * 1000:.0f} ms "
              "(target < 1 s)")  # fmt: skip
        print(flatness(log_memory))

        pane_lags, pane_memory, held = asyncio.run(pane_flood(config, args.log_seconds))
        print("\nthe same pod in the Logs pane (its target's pods merged), "
              f"{args.log_seconds:.0f} s")  # fmt: skip
        print(f"  newest line on screen: lag p50 {statistics.median(pane_lags) * 1000:.0f} ms, "
              f"p95 {pct(pane_lags, 0.95) * 1000:.0f} ms, max {max(pane_lags) * 1000:.0f} ms "
              f"over {len(pane_lags)} samples (target < 1 s); lines held {held}")  # fmt: skip
        print(flatness(pane_memory))
    finally:
        server.stdin.close()
        server.wait(30)


if __name__ == "__main__":
    os.environ.setdefault("QUORUM_DATA_DIR", tempfile.mkdtemp())
    main()
