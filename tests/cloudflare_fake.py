"""Cloudflare's load-balancing API (v4) on loopback, built from the documented shapes:
account pools with origins, each pool's health by region, a zone's load balancers,
and PATCH of a pool. Every answer is in Cloudflare's envelope. Records every request."""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.github_fake import Seen

ACCOUNT = "acc0123456789"
ZONE = "zone0123456789"
HOST = "www.collective.example"


def pool(pid: str, name: str, *addresses: str, enabled: bool = True) -> dict:
    return {
        "id": pid, "name": name, "enabled": enabled, "minimum_origins": 1,
        "monitor": "mon1", "check_regions": ["WEU", "ENAM"],
        "modified_on": f"2026-03-0{len(addresses)}T09:00:00.000000Z",
        "origins": [{"name": f"{name}-{i}", "address": a, "enabled": True, "weight": 1}
                    for i, a in enumerate(addresses, 1)],
    }  # fmt: skip


def region(healthy: bool, *origins: tuple[str, bool]) -> dict:
    return {
        "healthy": healthy,
        "origins": [{address: {"healthy": ok, "rtt": "38ms",
                               "failure_reason": "No failures" if ok else "HTTP 502",
                               "response_code": 200 if ok else 502}}
                    for address, ok in origins],
    }  # fmt: skip


@dataclass
class FakeCloudflare:
    server: HTTPServer
    pools: list[dict] = field(default_factory=list)
    health: dict[str, dict] = field(default_factory=dict)  # pool id -> pop_health
    load_balancers: list[dict] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    fault: Callable[[Request], Response | None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server.expect_request(re.compile(r"^/client/v4/.*")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.server.url_for("/client/v4")

    def requests(self, method: str = "", path: str = "") -> list[Seen]:
        return [s for s in self.seen if (not method or s.method == method) and path in s.path]

    def handle(self, request: Request) -> Response:
        body = request.get_json(silent=True) if request.data else None
        auth = request.headers.get("Authorization", "").removeprefix("Bearer ")
        seen = Seen(request.method, request.path, dict(request.args), auth, body)
        with self.lock:
            self.seen.append(seen)
        response = self.fault(request) if self.fault else None
        if response is None:
            response = self.route(request, body)
        seen.status = response.status_code
        return response

    def ok(self, result: Any) -> Response:
        info = {"page": 1, "per_page": 20, "count": len(result) if isinstance(result, list) else 1,
                "total_count": len(result) if isinstance(result, list) else 1}  # fmt: skip
        envelope = {"success": True, "errors": [], "messages": [], "result": result,
                    "result_info": info}  # fmt: skip
        return Response(json.dumps(envelope), 200, content_type="application/json")

    def error(self, status: int, code: int, message: str) -> Response:
        envelope = {"success": False, "errors": [{"code": code, "message": message}],
                    "messages": [], "result": None}  # fmt: skip
        return Response(json.dumps(envelope), status, content_type="application/json")

    def route(self, request: Request, body: Any) -> Response:
        path = request.path.removeprefix("/client/v4")
        pools_path = f"/accounts/{ACCOUNT}/load_balancers/pools"
        if path == pools_path and request.method == "GET":
            return self.ok(copy.deepcopy(self.pools))
        if path == f"/zones/{ZONE}/load_balancers":
            return self.ok(self.load_balancers)
        if found := re.fullmatch(rf"{pools_path}/([^/]+)(/health)?", path):
            match = [p for p in self.pools if p["id"] == found.group(1)]
            if not match:
                return self.error(404, 1002, "Pool not found")
            if found.group(2):
                return self.ok({"pool_id": match[0]["id"], "pop_health":
                                self.health.get(match[0]["id"], {})})  # fmt: skip
            if request.method == "PATCH" and isinstance(body, dict):
                match[0].update(body)
                return self.ok(match[0])
        return self.error(404, 7003, "Could not route to the path")
