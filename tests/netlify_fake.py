"""A Netlify API (v1) on loopback, built from the documented shapes: a site with its
published deploy, the site's deploys, restore, lock and unlock. Records every request."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.github_fake import Seen

SITE_ID = "3970e0fe-8564-4903-9a55-c5f8de49fb8b"
SITE_NAME = "collective-site"
FAILURE = "Build script returned non-zero exit code: 2"


def deploy(n: int, state: str, *, context: str = "production", title: str = "Update copy",
           published: bool = False) -> dict:  # fmt: skip
    return {
        "id": f"6650{n:04d}", "site_id": SITE_ID, "state": state, "name": SITE_NAME,
        "context": context, "branch": "main" if context == "production" else f"pr-{n}",
        "commit_ref": f"{n:02d}" + "beef" * 9 + "ab", "title": title,
        "created_at": f"2026-03-01T10:{n:02d}:00.000Z",
        "updated_at": f"2026-03-01T10:{n:02d}:40.000Z",
        "published_at": f"2026-03-01T10:{n:02d}:45.000Z" if published else None,
        "deploy_ssl_url": f"https://6650{n:04d}--{SITE_NAME}.netlify.app",
        "error_message": FAILURE if state == "error" else None,
        "locked": False,
    }  # fmt: skip


@dataclass
class FakeNetlify:
    server: HTTPServer
    deploys: list[dict] = field(default_factory=list)
    published: str | None = None
    seen: list[Seen] = field(default_factory=list)
    fault: Callable[[Request], Response | None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server.expect_request(re.compile(r"^/api/v1/.*")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.server.url_for("/api/v1")

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
            response = self.route(request)
        seen.status = response.status_code
        return response

    def json(self, data: Any, status: int = 200) -> Response:
        headers = {"X-RateLimit-Limit": "500", "X-RateLimit-Remaining": "497",
                   "X-RateLimit-Reset": "1900000000"}  # fmt: skip
        return Response(json.dumps(data), status, content_type="application/json", headers=headers)

    def missing(self) -> Response:
        return self.json({"code": 404, "message": "Not Found"}, 404)

    def find(self, deploy_id: str) -> dict | None:
        return next((d for d in self.deploys if d["id"] == deploy_id), None)

    def route(self, request: Request) -> Response:
        path, post = request.path.removeprefix("/api/v1"), request.method == "POST"
        if found := re.fullmatch(r"/sites/([^/]+)", path):
            if found.group(1) not in (SITE_ID, f"{SITE_NAME}.netlify.app"):
                return self.missing()
            live = self.find(self.published) if self.published else None
            return self.json({"id": SITE_ID, "name": SITE_NAME,
                              "ssl_url": f"https://{SITE_NAME}.netlify.app",
                              "published_deploy": live})  # fmt: skip
        if path == f"/sites/{SITE_ID}/deploys":
            per_page = int(request.args.get("per_page", 100))
            newest = sorted(self.deploys, key=lambda d: d["created_at"], reverse=True)
            return self.json(newest[:per_page])
        if post and (found := re.fullmatch(rf"/sites/{SITE_ID}/deploys/([^/]+)/restore", path)):
            d = self.find(found.group(1))
            if d is None:
                return self.missing()
            if d["state"] != "ready":
                return self.json({"code": 422, "message": "Deploy is not ready"}, 422)
            self.published = d["id"]
            d["published_at"] = "2026-03-01T12:00:00.000Z"
            return self.json(d, 201)
        if post and (found := re.fullmatch(r"/deploys/([^/]+)/(lock|unlock)", path)):
            d = self.find(found.group(1))
            if d is None:
                return self.missing()
            d["locked"] = found.group(2) == "lock"
            return self.json(d)
        return self.missing()
