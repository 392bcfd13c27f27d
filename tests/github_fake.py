"""A GitHub REST API on loopback (pytest-httpserver), built from the documented shapes.

It keeps runs, jobs, logs, pending deployments and deployments per repository,
answers conditional GETs with 304 without spending rate limit (as GitHub does),
pages listings with `Link` headers, redirects job logs to a second "download"
server, and records every request (path, query, token, body) so tests can count
and inspect them.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

SHA = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    auth: str
    body: Any
    status: int = 0


def run(
    run_id: int,
    workflow: str,
    *,
    status: str = "completed",
    conclusion: str | None = "success",
    sha: str = SHA,
    branch: str = "main",
    number: int | None = None,
    actor: str = "octocat",
    started: str = "2026-03-01T10:00:00Z",
    updated: str = "2026-03-01T10:03:12Z",
) -> dict[str, Any]:
    return {
        "id": run_id,
        "name": workflow.removesuffix(".yml"),
        "path": f".github/workflows/{workflow}",
        "head_branch": branch,
        "head_sha": sha,
        "run_number": number or run_id % 1000,
        "run_attempt": 1,
        "event": "push",
        "status": status,
        "conclusion": conclusion,
        "html_url": f"https://github.example/runs/{run_id}",
        "created_at": started,
        "run_started_at": started,
        "updated_at": updated,
        "actor": {"login": actor},
        "triggering_actor": {"login": actor},
    }


def job(job_id: int, name: str, *, conclusion: str | None = "success", failed_step: str = "",
        status: str = "completed") -> dict[str, Any]:  # fmt: skip
    steps = [{"name": "Set up job", "status": "completed", "conclusion": "success", "number": 1}]
    if failed_step:
        steps.append({"name": failed_step, "status": "completed", "conclusion": "failure",
                      "number": 2})  # fmt: skip
    return {
        "id": job_id,
        "name": name,
        "status": status,
        "conclusion": conclusion,
        "started_at": "2026-03-01T10:00:05Z",
        "completed_at": "2026-03-01T10:03:00Z",
        "runner_name": "runner-1",
        "steps": steps,
    }


def pending(env_id: int, name: str, reviewer: str = "ops-team") -> dict[str, Any]:
    return {
        "environment": {
            "id": env_id,
            "node_id": f"EN_{env_id}",
            "name": name,
            "url": f"https://api.github.example/env/{env_id}",
            "html_url": f"https://github.example/env/{name}",
        },  # fmt: skip
        "wait_timer": 0,
        "wait_timer_started_at": "2026-03-01T11:00:00Z",
        "current_user_can_approve": True,
        "reviewers": [{"type": "Team", "reviewer": {"name": reviewer, "id": 7}}],
    }


@dataclass
class FakeGitHub:
    server: HTTPServer
    download: HTTPServer
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    jobs: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    logs: dict[int, str] = field(default_factory=dict)
    pending: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    deployments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    statuses: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    limit: int = 5000
    remaining: int = 5000
    reset: int = field(default_factory=lambda: int(time.time()) + 3600)
    # A test may answer a request itself (faults): return a Response, or None to go on.
    fault: Callable[[Request], Response | None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server.expect_request(re.compile(r"^/.*")).respond_with_handler(self.handle)
        self.download.expect_request(re.compile(r"^/logs/\d+$")).respond_with_handler(
            self.serve_log
        )

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def requests(self, method: str = "", path: str = "") -> list[Seen]:
        return [s for s in self.seen if (not method or s.method == method) and path in s.path]

    def rate_headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.remaining, 0)),
            "X-RateLimit-Reset": str(self.reset),
            "X-RateLimit-Resource": "core",
        }

    # --- the server ------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        body = request.get_json(silent=True) if request.data else None
        seen = Seen(request.method, request.path, dict(request.args),
                    request.headers.get("Authorization", ""), body)  # fmt: skip
        with self.lock:
            self.seen.append(seen)
        response = self.fault(request) if self.fault else None
        if response is None:
            response = self.route(request, body)
        seen.status = response.status_code
        return response

    def serve_log(self, request: Request) -> Response:
        with self.lock:
            self.seen.append(Seen("GET", "download" + request.path, dict(request.args),
                                  request.headers.get("Authorization", ""), None, 200))  # fmt: skip
        job_id = int(request.path.rsplit("/", 1)[-1])
        return Response(self.logs.get(job_id, ""), 200, content_type="text/plain")

    def json(self, request: Request, data: Any, status: int = 200, headers=None) -> Response:  # noqa: ANN001
        text = json.dumps(data)
        etag = '"' + hashlib.sha1(text.encode()).hexdigest() + '"'
        if request.method == "GET" and request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag, **self.rate_headers()})
        self.remaining -= 1
        headers = {"ETag": etag, **self.rate_headers(), **(headers or {})}
        return Response(text, status, content_type="application/json", headers=headers)

    def paged(self, request: Request, items: list[Any], key: str | None) -> Response:
        per_page = int(request.args.get("per_page", 30))
        page = int(request.args.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            query = {**request.args, "page": str(page + 1)}
            headers["Link"] = f'<{self.url}{request.path}?{urlencode(query)}>; rel="next"'
        data = {"total_count": len(items), key: chunk} if key else chunk
        return self.json(request, data, headers=headers)

    def route(self, request: Request, body: Any) -> Response:  # noqa: C901 - one table of routes
        path, args, post = request.path, request.args, request.method == "POST"
        repo_path = re.match(r"^/repos/([^/]+/[^/]+)/(.*)$", path)
        if not repo_path:
            return Response(json.dumps({"message": "Not Found"}), 404)
        repo, rest = repo_path.groups()
        runs = self.runs.get(repo, [])
        if m := re.fullmatch(r"actions/workflows/([^/]+)/runs", rest):
            chosen = [r for r in runs if r["path"].endswith("/" + m.group(1))]
            if "branch" in args:
                chosen = [r for r in chosen if r["head_branch"] == args["branch"]]
            if args.get("status") == "success":
                chosen = [r for r in chosen if r["conclusion"] == "success"]
            return self.paged(request, sorted(chosen, key=lambda r: -r["id"]), "workflow_runs")
        if m := re.fullmatch(r"actions/workflows/([^/]+)/dispatches", rest):
            return Response(status=204, headers=self.rate_headers())
        if rest == "actions/runs":
            chosen = [r for r in runs if args.get("status") in (None, r["status"])]
            return self.paged(request, sorted(chosen, key=lambda r: -r["id"]), "workflow_runs")
        if m := re.fullmatch(r"actions/runs/(\d+)(/.*)?", rest):
            run_id, tail = int(m.group(1)), m.group(2) or ""
            found = next((r for r in runs if r["id"] == run_id), None)
            if found is None:
                return Response(json.dumps({"message": "Not Found"}), 404)
            if tail == "":
                return self.json(request, found)
            if tail == "/jobs":
                return self.paged(request, self.jobs.get(run_id, []), "jobs")
            if tail == "/rerun" and post:
                return self.json(request, {}, 201)
            if tail == "/pending_deployments" and not post:
                return self.json(request, self.pending.get(run_id, []))
            if tail == "/pending_deployments" and post:
                return self.answer(request, found, body)
        if m := re.fullmatch(r"actions/jobs/(\d+)(/logs)?", rest):
            job_id = int(m.group(1))
            every = [j for js in self.jobs.values() for j in js if j["id"] == job_id]
            if not every:
                return Response(json.dumps({"message": "Not Found"}), 404)
            if m.group(2):
                self.remaining -= 1
                return Response(status=302, headers={
                    "Location": self.download.url_for(f"/logs/{job_id}") + "?sig=signed",
                    **self.rate_headers()})  # fmt: skip
            return self.json(request, every[0])
        if rest == "deployments":
            chosen = [d for d in self.deployments.get(repo, [])
                      if args.get("environment") in (None, d["environment"])]  # fmt: skip
            return self.paged(request, chosen, None)
        if m := re.fullmatch(r"deployments/(\d+)/statuses", rest):
            return self.paged(request, self.statuses.get(int(m.group(1)), []), None)
        return Response(json.dumps({"message": "Not Found"}), 404)

    def answer(self, request: Request, found: dict[str, Any], body: Any) -> Response:
        """Review pending deployments: answered environments stop waiting (documented reply:
        the deployments the review let through)."""
        if not isinstance(body, dict) or body.get("state") not in ("approved", "rejected"):
            return self.json(request, {"message": "Invalid request"}, 422)
        items = self.pending.get(found["id"], [])
        ids = set(body.get("environment_ids") or [])
        answered = [p for p in items if p["environment"]["id"] in ids]
        if not answered:
            return self.json(request, {"message": "No pending deployment"}, 422)
        self.pending[found["id"]] = [p for p in items if p not in answered]
        if not self.pending[found["id"]]:
            found["status"] = "in_progress" if body["state"] == "approved" else "completed"
            if body["state"] == "rejected":
                found["conclusion"] = "failure"
        reply = [{"id": 9000 + p["environment"]["id"], "sha": found["head_sha"],
                  "ref": found["head_branch"], "environment": p["environment"]["name"]}
                 for p in answered]  # fmt: skip
        return self.json(request, reply)
