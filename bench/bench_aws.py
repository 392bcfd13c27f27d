"""AWS provider costs at size, each beside its baseline in the same run.

The API is moto in server mode, in a separate process with the counting proxy of
the tests in front of it (moto answers ListServices in one page; the proxy pages
it at maxResults, at most 100, as ECS documents, and counts calls per operation).

ecs: 2,000 services in one cluster. Time until `EcsProvider.snapshot()` returns
the complete table (list pages, describes, and the first CloudWatch read of
metrics and alarms, waited for at most 5 s; the read goes on for the next snapshot)
against the minimum calls made directly with boto3 in the
same run: every `list_services` page, then `describe_services` in batches of 10,
one after the other. Rounds alternate; the best of each is kept. Target <= 1.3x.
metrics: 500 services' CPU and memory. CloudWatch calls and time of the provider's
batched `get_metric_data` (up to 500 queries a call) against one call per service.
Target >= 50x fewer calls.

Run: python bench/bench_aws.py [--services N] [--metric-services N] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REGION = "eu-west-1"


def serve(services: int, metric_services: int) -> None:
    """Seed moto, print the proxy's URL, serve until stdin closes."""
    import logging

    from moto.server import ThreadedMotoServer

    from tests.aws_fixtures import Proxy, client, cluster, ecs_service, register

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    cluster(url, "big")
    cluster(url, "metrics")
    td = register(url, "web", "registry.example/web:1.0")
    for i in range(services):
        ecs_service(url, "big", f"svc-{i:04}", td)
    cloudwatch = client(url, "cloudwatch")
    now = datetime.now(UTC) - timedelta(minutes=1)
    for i in range(metric_services):
        ecs_service(url, "metrics", f"m-{i:03}", td)
        dims = [{"Name": "ClusterName", "Value": "metrics"},
                {"Name": "ServiceName", "Value": f"m-{i:03}"}]  # fmt: skip
        cloudwatch.put_metric_data(Namespace="AWS/ECS", MetricData=[
            {"MetricName": "CPUUtilization", "Dimensions": dims, "Timestamp": now, "Value": 40.0},
            {"MetricName": "MemoryUtilization", "Dimensions": dims, "Timestamp": now,
             "Value": 60.0},
        ])  # fmt: skip
    proxy = Proxy(url).start()
    print(json.dumps({"url": proxy.url}), flush=True)
    for line in sys.stdin:
        if line.strip() == "counts":
            print(json.dumps(dict(proxy.counts)), flush=True)
            proxy.counts.clear()
    proxy.stop()
    server.stop()


class Server:
    def __init__(self, services: int, metric_services: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(services), str(metric_services)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        self.url = json.loads(self.process.stdout.readline())["url"]

    def counts(self) -> dict[str, int]:
        self.process.stdin.write("counts\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def quiet(self) -> None:
        """Wait until no call arrives for two seconds: a listing's CloudWatch read goes
        on after its snapshot returned, and must not be counted in the next measure."""
        while self.counts():
            time.sleep(2)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(30)


def baseline_listing(url: str) -> int:
    import boto3

    ecs = boto3.client("ecs", endpoint_url=url, region_name=REGION)
    arns: list[str] = []
    token = None
    while True:
        page = ecs.list_services(
            cluster="big", maxResults=100, **({"nextToken": token} if token else {})
        )
        arns += page["serviceArns"]
        token = page.get("nextToken")
        if not token:
            break
    found = 0
    for i in range(0, len(arns), 10):
        found += len(ecs.describe_services(cluster="big", services=arns[i : i + 10])["services"])
    return found


def provider(url: str, cluster: str, tmp: Path):
    from providers.aws.ecs import EcsProvider
    from providers.base import ProviderContext

    settings = {"region": REGION, "endpoint_url": url, "call_timeout": 120,
                "environments": {"production": cluster}}  # fmt: skip
    return EcsProvider("aws", settings, ProviderContext(tmp))


def quorum_listing(url: str, tmp: Path) -> int:
    async def run() -> int:
        made = provider(url, "big", tmp)
        try:
            return len((await made.snapshot()).targets)
        finally:
            await made.close()

    return asyncio.run(run())


def timed(fn, *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def bench_listing(server: Server, services: int, rounds: int, tmp: Path) -> None:
    base, ours = [], []
    for _ in range(rounds):
        seconds, found = timed(baseline_listing, server.url)
        assert found == services, found
        base.append(seconds)
        base_counts = server.counts()
        seconds, found = timed(quorum_listing, server.url, tmp)
        assert found == services, found
        ours.append(seconds)
        our_counts = server.counts()
        server.quiet()
    print(f"ecs: {services} services, best of {rounds}")
    print(f"  boto3 list + describe, sequential: {min(base):.2f} s  calls {base_counts}")
    print(f"  EcsProvider.snapshot():            {min(ours):.2f} s  calls {our_counts}")
    print(f"  ratio: {min(ours) / min(base):.2f}x (target <= 1.3x)")


def bench_metrics(server: Server, count: int, tmp: Path) -> None:
    import boto3

    from providers.aws import cloudwatch
    from providers.aws.cloudwatch import ServiceKey
    from providers.aws.connection import Aws
    from providers.aws.settings import Connection

    keys = [ServiceKey("metrics", f"m-{i:03}") for i in range(count)]
    aws = Aws("bench", Connection(region=REGION, endpoint_url=server.url, call_timeout=120))

    async def ours() -> list[dict[str, float]]:
        return await cloudwatch.latest(aws, keys)

    server.counts()
    seconds, found = timed(asyncio.run, ours())
    assert sum(1 for f in found if f.get("cpu") == 40.0) == count, found[:3]
    our_calls = server.counts().get("GetMetricData", 0)
    aws.close()

    client = boto3.client("cloudwatch", endpoint_url=server.url, region_name=REGION)
    end = datetime.now(UTC)
    start = time.perf_counter()
    for i, key in enumerate(keys):
        client.get_metric_data(
            MetricDataQueries=cloudwatch.queries_for(key, i, 60),
            StartTime=end - timedelta(minutes=10), EndTime=end, ScanBy="TimestampDescending",
        )  # fmt: skip
    base_seconds = time.perf_counter() - start
    base_calls = server.counts().get("GetMetricData", 0)
    print(f"metrics: {count} services, CPU and memory")
    print(f"  one call per service: {base_calls} calls, {base_seconds:.2f} s")
    print(f"  batched:              {our_calls} calls, {seconds:.2f} s")
    print(f"  {base_calls / our_calls:.0f}x fewer calls (target >= 50x), "
          f"time {seconds / base_seconds:.2f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--metric-services", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ["MOTO_ECS_SERVICE_RUNNING"] = "2"
    started = time.perf_counter()
    server = Server(args.services, args.metric_services)
    print(f"seeded moto in {time.perf_counter() - started:.0f} s")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            bench_listing(server, args.services, args.rounds, Path(tmp))
            bench_metrics(server, args.metric_services, Path(tmp))
    finally:
        server.close()


if __name__ == "__main__":
    main()
