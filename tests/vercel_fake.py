"""A Vercel REST API on loopback, built from the documented shapes: projects with
their production target, deployments (v6 listing, v13 one), build events, promote and
roll back. Team projects answer only with the right `teamId`. Records every request."""

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

PROJECT_ID = "prj_site1"
PROJECT_NAME = "collective-site"
TEAM = "team_collective"
T0 = 1_772_360_000_000  # epoch ms


def deployment(n: int, state: str, *, target: str | None = "production",
               sha: str = "", message: str = "Update the front page",
               creator: str = "dana") -> dict:  # fmt: skip
    sha = sha or f"{n:02d}" + "c0ffee" * 6
    return {
        "uid": f"dpl_{n}", "name": PROJECT_NAME, "url": f"{PROJECT_NAME}-{n}.vercel.app",
        "created": T0 + n * 60_000, "createdAt": T0 + n * 60_000, "state": state,
        "readyState": state, "type": "LAMBDAS", "target": target,
        "creator": {"uid": "u1", "username": creator, "email": f"{creator}@example.org"},
        "meta": {"githubCommitSha": sha, "githubCommitMessage": message,
                 "githubCommitRef": "main"},
        "projectId": PROJECT_ID,
    }  # fmt: skip


def event(n: int, text: str, kind: str = "stdout") -> dict:
    return {"type": kind, "created": T0 + n * 1000,
            "payload": {"text": text, "date": T0 + n * 1000, "deploymentId": "dpl"}}  # fmt: skip


@dataclass
class FakeVercel:
    server: HTTPServer
    deployments: list[dict] = field(default_factory=list)
    events: dict[str, list[dict]] = field(default_factory=dict)
    production: str | None = None  # the id in the project's targets.production
    seen: list[Seen] = field(default_factory=list)
    fault: Callable[[Request], Response | None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server.expect_request(re.compile(r"^/v\d+/.*")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

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
        headers = {"X-RateLimit-Limit": "500", "X-RateLimit-Remaining": "490",
                   "X-RateLimit-Reset": "1900000000"}  # fmt: skip
        return Response(json.dumps(data), status, content_type="application/json", headers=headers)

    def error(self, status: int, code: str, message: str) -> Response:
        return self.json({"error": {"code": code, "message": message}}, status)

    def find(self, deployment_id: str) -> dict | None:
        return next((d for d in self.deployments if d["uid"] == deployment_id), None)

    def route(self, request: Request) -> Response:  # noqa: C901
        path, args, post = request.path, request.args, request.method == "POST"
        if args.get("teamId") != TEAM:
            return self.error(404, "not_found", "The project was not found")
        if found := re.fullmatch(r"/v9/projects/([^/]+)", path):
            if found.group(1) not in (PROJECT_ID, PROJECT_NAME):
                return self.error(404, "not_found", "Project not found")
            targets = {}
            if self.production:
                live = self.find(self.production) or {}
                targets["production"] = {"id": self.production, "readyState": live.get("state")}
            return self.json({"id": PROJECT_ID, "name": PROJECT_NAME, "targets": targets})
        if path == "/v6/deployments":
            chosen = [d for d in self.deployments if d["projectId"] == args.get("projectId")
                      and (d["target"] or "preview") == args.get("target", d["target"])
                      and args.get("state") in (None, d["state"])]  # fmt: skip
            chosen.sort(key=lambda d: -d["created"])
            chosen = chosen[: int(args.get("limit", 20))]
            return self.json(
                {
                    "deployments": chosen,
                    "pagination": {"count": len(chosen), "next": None, "prev": None},
                }
            )
        if found := re.fullmatch(r"/v13/deployments/([^/]+)", path):
            d = self.find(found.group(1))
            return self.json(d) if d else self.error(404, "not_found", "Deployment not found")
        if found := re.fullmatch(r"/v3/deployments/([^/]+)/events", path):
            if not self.find(found.group(1)):
                return self.error(404, "not_found", "Deployment not found")
            return self.json(self.events.get(found.group(1), []))
        if post and (found := re.fullmatch(r"/v(10|1)/projects/([^/]+)/(promote|rollback)/(.+)",
                                           path)):  # fmt: skip
            version, project, verb, deployment_id = found.groups()
            if (verb, version) not in (("promote", "10"), ("rollback", "1")):
                return self.error(404, "not_found", "Not found")
            d = self.find(deployment_id)
            if project != PROJECT_ID or d is None:
                return self.error(404, "not_found", "Deployment not found")
            if d["state"] != "READY":
                return self.error(400, "bad_request", "Deployment is not ready")
            self.production = deployment_id
            return self.json({}, 201)
        return self.error(404, "not_found", "Not found")
