"""AWS over real HTTP on loopback: moto in server mode, and small servers in front of it.

moto answers as AWS does for what it implements. Where it differs from the
documented service, a proxy in front of it applies the documented behaviour and
says so: moto's ListServices returns every ARN at once, so the proxy pages its
answer at `maxResults` (at most 100) with a `nextToken`, and refuses a
DescribeServices of more than 10 services as ECS does. The proxy also counts the
requests per operation, answers ThrottlingException when told to, can answer
every call with a credentials error in the documented JSON shape, and can hold a
CloudWatch Logs live tail session open in the event-stream framing (moto's
replays the group and ends). APIs moto lacks are answered by the fronts of
tests.aws_wire, put in `fronts`.
"""

from __future__ import annotations

import base64
import json
import queue
import socket
import struct
import threading
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.aws_wire import Iam, MetricData, Role

REGION = "eu-west-1"
ACCOUNT = "123456789012"
INVALID_TOKEN = "The security token included in the request is invalid."
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@pytest.fixture(name="moto_url", scope="session")
def moto_url_fixture() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(name="moto")
def moto_fixture(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A reset moto, dummy credentials in the environment, nothing from the user's ~/.aws."""
    conn = HTTPConnection(moto_url.removeprefix("http://"))
    conn.request("POST", "/moto-api/reset")
    conn.getresponse().read()
    aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDQUORUMTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "quorum-test-secret-value")
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "2")
    yield moto_url


def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials or profile from the person running the tests, no instance metadata."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.delenv(name, raising=False)  # fmt: skip
    (tmp_path / "aws-config").write_text("")
    (tmp_path / "aws-credentials").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def client(url: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=url, region_name=REGION)


def operation(handler: BaseHTTPRequestHandler, body: bytes) -> str:
    """The API operation of a request: the JSON protocols' X-Amz-Target, the RPC v2
    path, the query protocol's Action, else method and path (REST protocols)."""
    target = handler.headers.get("X-Amz-Target")
    if target:
        return target.rpartition(".")[2]
    if "/operation/" in handler.path:  # the Smithy RPC v2 CBOR protocol
        return handler.path.rpartition("/operation/")[2].split("?")[0]
    if body.startswith(b"Action=") or b"&Action=" in body:
        from urllib.parse import parse_qs

        return parse_qs(body.decode()).get("Action", ["?"])[0]
    if handler.headers.get("Content-Type", "").startswith("application/x-amz-json"):
        return "?"
    try:
        doc = json.loads(body) if body else None
    except ValueError:
        doc = None
    if isinstance(doc, dict) and "Action" in doc:
        return str(doc["Action"])
    return f"{handler.command} {handler.path.split('?')[0]}"


class QuietServer(ThreadingHTTPServer):
    """A client that gave up on an answer (a timeout under test) is not an error here."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class Proxy:
    """A counting proxy in front of `upstream` (see the module's docstring)."""

    upstream: str
    counts: Counter[str] = field(default_factory=Counter)
    # operation -> how many more requests get ThrottlingException (None: every one)
    throttle: dict[str, int | None] = field(default_factory=dict)
    credentials_error: str = ""  # an error code every request gets, e.g. ExpiredTokenException
    deny: set[str] = field(default_factory=set)  # operations answered AccessDeniedException
    # When set, StartLiveTail is answered here: a session that stays open and sends each
    # list of results put in the queue as a sessionUpdate, until None.
    live_tail: queue.Queue[list[dict[str, Any]] | None] | None = None
    # Servers of what moto lacks (tests.aws_wire): the first that answers a request wins.
    fronts: list[Any] = field(default_factory=list)
    url: str = ""
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Proxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.forward()

            def do_GET(self) -> None:
                self.forward()

            def do_PUT(self) -> None:
                self.forward()

            def do_DELETE(self) -> None:
                self.forward()

            def forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                op = operation(self, body)
                with proxy._lock:
                    proxy.counts[op] += 1
                if proxy.credentials_error:
                    return self.json_error(400, proxy.credentials_error, INVALID_TOKEN)
                if op in proxy.deny:
                    return self.json_error(400, "AccessDeniedException", "not authorized")
                if proxy.throttled(op):
                    return self.json_error(400, "ThrottlingException", "Rate exceeded")
                if op == "StartLiveTail" and proxy.live_tail is not None:
                    return self.live_session(json.loads(body))
                for front in proxy.fronts:
                    reply = front.answer(self.command, self.path, dict(self.headers), body)
                    if reply is not None:
                        return self.reply(*reply)
                if op == "DescribeServices" and len(json.loads(body).get("services", [])) > 10:
                    return self.json_error(400, "InvalidParameterException",
                                           "services can have at most 10 items.")  # fmt: skip
                status, headers, answer = proxy.relay(self.command, self.path, self.headers, body)
                if op == "ListServices" and status == 200:
                    answer = page_services(json.loads(body), json.loads(answer))
                self.reply(status, headers, answer)

            def reply(self, status: int, headers: Any, answer: bytes) -> None:
                self.send_response(status)
                pairs = headers.items() if isinstance(headers, dict) else headers
                for name, value in pairs:
                    if name.lower() not in HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def live_session(self, request: dict[str, Any]) -> None:
                """CloudWatch Logs live tail in the event-stream framing, held open:
                the JSON protocol's initial-response, sessionStart, then a
                sessionUpdate per list put in the queue, one message per chunk."""
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.amazon.eventstream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                start = {
                    "sessionId": "s-1",
                    "requestId": "r-1",
                    "logGroupIdentifiers": request.get("logGroupIdentifiers", []),
                }
                self.chunk(event_message("initial-response", {}))
                self.chunk(event_message("sessionStart", start))
                while (results := proxy.live_tail.get()) is not None:
                    update = {"sessionMetadata": {"sampled": False}, "sessionResults": results}
                    self.chunk(event_message("sessionUpdate", update))
                self.chunk(b"")
                self.close_connection = True

            def chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def json_error(self, status: int, code: str, message: str) -> None:
                data = json.dumps({"__type": code, "message": message}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("x-amzn-ErrorType", code)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def throttled(self, op: str) -> bool:
        with self._lock:
            if op not in self.throttle:
                return False
            left = self.throttle[op]
            if left is None:
                return True
            if left <= 0:
                return False
            self.throttle[op] = left - 1
            return True

    def relay(self, method: str, path: str, headers: Any, body: bytes) -> tuple:
        conn = HTTPConnection(self.upstream.removeprefix("http://"), timeout=30)
        forwarded = {k: v for k, v in headers.items() if k.lower() not in HOP}
        conn.request(method, path, body=body, headers=forwarded)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, response.getheaders(), data

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def event_message(event_type: str, payload: dict[str, Any]) -> bytes:
    """One message of the AWS event-stream encoding: prelude (total and headers
    length, CRC32), string headers, the JSON payload, and the message's CRC32."""
    headers = b""
    for name, value in ((":message-type", "event"), (":event-type", event_type),
                        (":content-type", "application/json")):  # fmt: skip
        headers += bytes([len(name)]) + name.encode() + b"\x07"
        headers += struct.pack(">H", len(value)) + value.encode()
    body = json.dumps(payload).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + body
    return message + struct.pack(">I", zlib.crc32(message))


def page_services(request: dict, answer: dict) -> bytes:
    """ListServices paged as ECS documents it: `maxResults` (1-100, default 10) per page."""
    arns = answer.get("serviceArns", [])
    size = min(int(request.get("maxResults") or 10), 100)
    start = int(base64.b64decode(request["nextToken"])) if request.get("nextToken") else 0
    page = {"serviceArns": arns[start : start + size]}
    if start + size < len(arns):
        page["nextToken"] = base64.b64encode(str(start + size).encode()).decode()
    return json.dumps(page).encode()


@pytest.fixture(name="proxy")
def proxy_fixture(moto: str) -> Iterator[Proxy]:
    started = Proxy(moto).start()
    yield started
    started.stop()


class Hanging:
    """A TCP server that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


# --- the world the tests describe -------------------------------------------------------


def container(name: str, image: str, group: str, prefix: str = "ecs") -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "essential": True,
        "memory": 256,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": group,
                "awslogs-region": REGION,
                "awslogs-stream-prefix": prefix,
            },  # fmt: skip
        },
    }


def register(url: str, family: str, image: str, group: str | None = None) -> str:
    ecs = client(url, "ecs")
    answer = ecs.register_task_definition(
        family=family,
        containerDefinitions=[container(family, image, group or f"/collective/{family}")],
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
    )
    return answer["taskDefinition"]["taskDefinitionArn"]


def ecs_service(url: str, cluster: str, name: str, task_definition: str, desired: int = 2,
                **extra: Any) -> dict[str, Any]:  # fmt: skip
    ecs = client(url, "ecs")
    return ecs.create_service(
        cluster=cluster, serviceName=name, taskDefinition=task_definition,
        desiredCount=desired, **extra,
    )["service"]  # fmt: skip


def cluster(url: str, name: str) -> None:
    client(url, "ecs").create_cluster(clusterName=name)


def ecs_config(tmp_path: Path, url: str, name: str = "aws", **extra: str) -> Path:
    """A Quorum config with one ecs block (production -> prod, staging -> stage)."""
    extra.setdefault("environments", '{ production = "prod", staging = "stage" }')
    lines = "\n".join(f"{k} = {v}" for k, v in extra.items())
    path = tmp_path / "quorum.toml"
    path.write_text(
        f"""
[team]
name = "collective"

[policy.production]
min_approvals = 0

[[providers]]
name = "{name}"
kind = "ecs"
region = "{REGION}"
endpoint_url = "{url}"
rollout_interval = 0.1
{lines}
"""
    )
    return path


def alb_service(url: str, cluster_name: str, name: str, task_definition: str) -> tuple[str, str]:
    """An ECS service behind its own application load balancer (VPC, two subnets, a
    target group, a listener forwarding to it); returns the CloudWatch dimension
    values of its target group and load balancer."""
    ec2, elbv2 = client(url, "ec2"), client(url, "elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                          AvailabilityZone=f"{REGION}{zone}")["Subnet"]["SubnetId"]
        for i, zone in ((1, "a"), (2, "b"))
    ]  # fmt: skip
    balancer = elbv2.create_load_balancer(Name=f"{name}-alb", Subnets=subnets)["LoadBalancers"][0]
    group = elbv2.create_target_group(Name=f"{name}-tg", Protocol="HTTP", Port=80, VpcId=vpc,
                                      TargetType="ip")["TargetGroups"][0]  # fmt: skip
    elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}],
    )  # fmt: skip
    ecs_service(url, cluster_name, name, task_definition, loadBalancers=[{
        "targetGroupArn": group["TargetGroupArn"], "containerName": name, "containerPort": 80,
    }])  # fmt: skip
    # As CloudWatch documents them: TargetGroup = targetgroup/<name>/<id>,
    # LoadBalancer = app/<name>/<id> (each the end of the resource's ARN).
    tg = "targetgroup/" + group["TargetGroupArn"].partition(":targetgroup/")[2]
    return tg, balancer["LoadBalancerArn"].partition(":loadbalancer/")[2]


def alb_world(moto: str, proxy: Proxy) -> MetricData:
    """Three services behind load balancers whose p99 is fine, slow and too slow (their
    error rates all within bounds, so the p99 alone sets their health), and
    a CloudWatch in front of moto that has their ALB numbers (percentiles included)."""
    cluster(moto, "prod")
    at = datetime.now(UTC) - timedelta(minutes=2)
    data = MetricData()
    for name, p99, requests, errors in (("fast", 0.32, 400.0, 2.0), ("slow", 0.75, 200.0, 1.0),
                                        ("stuck", 1.25, 100.0, 1.0)):  # fmt: skip
        tg, lb = alb_service(moto, "prod", name, register(moto, name, f"registry.example/{name}:1"))
        alb = {"TargetGroup": tg, "LoadBalancer": lb}
        data.put("AWS/ApplicationELB", "TargetResponseTime", alb, "p99", p99, at)
        data.put("AWS/ApplicationELB", "RequestCount", alb, "Sum", requests, at)
        data.put("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", alb, "Sum", errors, at)
        ecs = {"ClusterName": "prod", "ServiceName": name}
        data.put("AWS/ECS", "CPUUtilization", ecs, "Average", 30.0, at)
    proxy.fronts.append(data)
    return data


@pytest.fixture(name="iam")
def iam_fixture(moto: str, proxy: Proxy) -> Iam:
    """prod/web and stage/web on moto; the caller assumed role `deployer` (path
    /teams/), which may update the services of cluster prod only."""
    for name in ("prod", "stage"):
        cluster(moto, name)
        ecs_service(moto, name, "web", register(moto, "web", "registry.example/web:1.0"))
    server = Iam(
        account=ACCOUNT,
        caller=f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/alice@example.org",
        roles={
            "deployer": Role(
                "deployer",
                "/teams/",
                allow={"ecs:UpdateService": [f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/*"]},
            )
        },
    )
    proxy.fronts.append(server)
    return server
