"""A GitLab REST API (v4) on loopback, built from the documented shapes: pipelines,
jobs, traces, deployments with approvals, play and retry. Records every request."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.github_fake import Seen

PROJECT = "collective/website"


def pipeline(pid: int, status: str, *, sha: str = "a1b2c3d4e5f6", ref: str = "main") -> dict:
    return {
        "id": pid, "iid": pid % 100, "project_id": 7, "sha": sha, "ref": ref, "status": status,
        "source": "push", "created_at": "2026-03-01T10:00:00Z",
        "updated_at": "2026-03-01T10:04:30Z", "web_url": f"https://gitlab.example/p/{pid}",
        "user": {"username": "dana"},
    }  # fmt: skip


def job(job_id: int, name: str, stage: str, status: str, pipeline_id: int) -> dict:
    return {
        "id": job_id, "name": name, "stage": stage, "status": status,
        "started_at": "2026-03-01T10:00:10Z", "allow_failure": False,
        "pipeline": {"id": pipeline_id, "web_url": f"https://gitlab.example/p/{pipeline_id}"},
        "web_url": f"https://gitlab.example/j/{job_id}",
    }  # fmt: skip


def deployment(dep_id: int, env: str, status: str, deployable: dict, **extra: Any) -> dict:
    return {
        "id": dep_id, "iid": dep_id % 100, "ref": "main", "sha": deployable.get("sha", "d" * 40),
        "status": status, "created_at": "2026-03-01T11:00:00Z",
        "updated_at": "2026-03-01T11:00:05Z", "user": {"username": "dana"},
        "environment": {"id": 3, "name": env}, "deployable": deployable,
        "pending_approval_count": 0, "approvals": [], **extra,
    }  # fmt: skip


@dataclass
class FakeGitLab:
    server: HTTPServer
    pipelines: list[dict] = field(default_factory=list)
    jobs: dict[int, list[dict]] = field(default_factory=dict)  # pipeline id -> jobs
    traces: dict[int, str] = field(default_factory=dict)
    deployments: list[dict] = field(default_factory=list)
    pages: dict | None = None  # GET /projects/:id/pages; None: not deployed (404)
    seen: list[Seen] = field(default_factory=list)
    fault: Callable[[Request], Response | None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server.expect_request(re.compile(r"^/api/v4/.*")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.server.url_for("/api/v4")

    def requests(self, method: str = "", path: str = "") -> list[Seen]:
        return [s for s in self.seen if (not method or s.method == method) and path in s.path]

    def handle(self, request: Request) -> Response:
        raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path
        path = raw.split("?", 1)[0]
        body = request.get_json(silent=True) if request.data else None
        seen = Seen(request.method, path, dict(request.args),
                    request.headers.get("PRIVATE-TOKEN", ""), body)  # fmt: skip
        with self.lock:
            self.seen.append(seen)
        response = self.fault(request) if self.fault else None
        if response is None:
            response = self.route(request, path, body)
        seen.status = response.status_code
        return response

    def json(self, data: Any, status: int = 200) -> Response:
        headers = {"RateLimit-Limit": "2000", "RateLimit-Remaining": "1990",
                   "RateLimit-Reset": "1900000000"}  # fmt: skip
        return Response(json.dumps(data), status, content_type="application/json", headers=headers)

    def missing(self) -> Response:
        return self.json({"message": "404 Not found"}, 404)

    def all_jobs(self) -> list[dict]:
        return [j for js in self.jobs.values() for j in js]

    def route(self, request: Request, path: str, body: Any) -> Response:  # noqa: C901
        m = re.fullmatch(r"/api/v4/projects/([^/]+)/(.*)", path)
        if not m or unquote(m.group(1)) != PROJECT or "%2F" not in m.group(1):
            return self.missing()
        rest, args, post = m.group(2), request.args, request.method == "POST"
        if rest == "pipelines":
            chosen = [p for p in self.pipelines if args.get("ref") in (None, p["ref"])]
            return self.json(
                sorted(chosen, key=lambda p: -p["id"])[: int(args.get("per_page", 20))]
            )
        if found := re.fullmatch(r"pipelines/(\d+)/jobs", rest):
            jobs = self.jobs.get(int(found.group(1)), [])
            scope = args.getlist("scope[]")
            return self.json([j for j in jobs if not scope or j["status"] in scope])
        if found := re.fullmatch(r"jobs/(\d+)(/trace|/play|/retry)?", rest):
            job_id, action = int(found.group(1)), found.group(2)
            match = [j for j in self.all_jobs() if j["id"] == job_id]
            if not match:
                return self.missing()
            if action == "/trace":
                return Response(self.traces.get(job_id, ""), 200, content_type="text/plain")
            if action == "/play" and post:
                if match[0]["status"] != "manual":
                    return self.json({"message": "400 Unplayable Job"}, 400)
                match[0]["status"] = "pending"
                return self.json(match[0])
            if action == "/retry" and post:
                return self.json({**match[0], "id": job_id + 1000, "status": "pending"}, 201)
            return self.json(match[0])
        if rest == "pages":
            return self.json(self.pages) if self.pages is not None else self.missing()
        if rest == "deployments":
            chosen = [d for d in self.deployments
                      if args.get("environment") in (None, d["environment"]["name"])
                      and args.get("status") in (None, d["status"])]  # fmt: skip
            chosen.sort(key=lambda d: -d["id"])
            return self.json(chosen[: int(args.get("per_page", 20))])
        if found := re.fullmatch(r"deployments/(\d+)(/approval)?", rest):
            match = [d for d in self.deployments if d["id"] == int(found.group(1))]
            if not match:
                return self.missing()
            if found.group(2) and post:
                if not isinstance(body, dict) or body.get("status") not in ("approved", "rejected"):
                    return self.json({"message": "400 Bad request"}, 400)
                match[0]["approvals"].append({"user": {"username": "voter"}, **body})
                match[0]["status"] = "running" if body["status"] == "approved" else "canceled"
                return self.json({"status": body["status"], "comment": body.get("comment"),
                                  "user": {"username": "voter"}}, 201)  # fmt: skip
            return self.json(match[0])
        return self.missing()
