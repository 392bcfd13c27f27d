"""Notifications against real HTTP servers on loopback: each body shape, and each failure."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from console.domain.names import current_user
from console.domain.settings import NotifyConfig
from console.notify.sinks import Notice, SinkResult, send_all
from console.store.audit import AuditLog

SECRET = "xoxb-SECRET-TOKEN-123"

NOTICE = Notice(
    title="Deploy api to production",
    text="alice deployed v2 after 2 approvals",
    severity="warning",
    fields={"revision": "v2", "environment": "production"},
)
PLAIN = (
    "[warning] Deploy api to production\nalice deployed v2 after 2 approvals\n"
    "revision: v2\nenvironment: production"
)


@pytest.fixture
def threaded() -> Iterator[HTTPServer]:
    """A server answering requests in parallel, for sinks that hang or wait on each other."""
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditLog]:
    with AuditLog(tmp_path / "audit.db") as log:
        yield log


def send(sinks: list[NotifyConfig], notice: Notice = NOTICE, **kwargs) -> list[SinkResult]:
    return asyncio.run(send_all(sinks, notice, **kwargs))


def exported(audit: AuditLog) -> str:
    out = io.StringIO()
    audit.export_jsonl(out)
    return out.getvalue()


def test_slack_body(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    httpserver.expect_oneshot_request(
        f"/services/{SECRET}", method="POST", json={"text": PLAIN}
    ).respond_with_data("ok")
    monkeypatch.setenv("SLACK_URL", httpserver.url_for(f"/services/{SECRET}"))
    assert send([NotifyConfig(kind="slack", url_env="SLACK_URL")]) == [
        SinkResult(sink="slack[0]", ok=True)
    ]
    httpserver.check_assertions()


def test_slack_mentions_and_links_stay_literal(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    notice = Notice(title="<!channel> pod <http://evil|click> & more", text="")
    expected = "[info] &lt;!channel&gt; pod &lt;http://evil|click&gt; &amp; more"
    httpserver.expect_oneshot_request("/s", json={"text": expected}).respond_with_data("ok")
    monkeypatch.setenv("SLACK_URL", httpserver.url_for("/s"))
    assert send([NotifyConfig(kind="slack", url_env="SLACK_URL")], notice)[0].ok
    httpserver.check_assertions()


def test_matrix_body_with_the_token_in_the_url(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = "/_matrix/client/v3/rooms/!ops:example.org/send/m.room.message"
    httpserver.expect_oneshot_request(
        path,
        method="POST",
        query_string={"access_token": SECRET},
        json={"msgtype": "m.text", "body": PLAIN},
    ).respond_with_json({"event_id": "$abc"})
    monkeypatch.setenv("MATRIX_URL", httpserver.url_for(path) + f"?access_token={SECRET}")
    assert send([NotifyConfig(kind="matrix", url_env="MATRIX_URL")]) == [
        SinkResult(sink="matrix[0]", ok=True)
    ]
    httpserver.check_assertions()


def test_generic_webhook_body(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    httpserver.expect_oneshot_request(
        "/hook",
        method="POST",
        headers={"Content-Type": "application/json"},
        json={
            "title": "Deploy api to production",
            "text": "alice deployed v2 after 2 approvals",
            "severity": "warning",
            "fields": {"revision": "v2", "environment": "production"},
        },
    ).respond_with_data("", status=204)
    monkeypatch.setenv("HOOK_URL", httpserver.url_for("/hook"))
    assert send([NotifyConfig(kind="webhook", url_env="HOOK_URL")])[0].ok
    httpserver.check_assertions()


def test_control_characters_never_reach_a_chat(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    notice = Notice(
        title="log: \x1b]0;owned\x07",
        text="line\x1b[2J",
        severity="loud",
        fields={"pod\x1b": "x\x9b"},
    )
    bodies: list[dict] = []

    def record(request: Request) -> Response:
        bodies.append(request.get_json())
        return Response("ok")

    httpserver.expect_oneshot_request("/hook").respond_with_handler(record)
    monkeypatch.setenv("HOOK_URL", httpserver.url_for("/hook"))
    assert send([NotifyConfig(kind="webhook", url_env="HOOK_URL")], notice)[0].ok
    assert bodies == [
        {
            "title": "log: \u241b]0;owned\u2407",
            "text": "line\u241b[2J",
            "severity": "info",
            "fields": {"pod\u241b": "x\\x9b"},
        }
    ]


def test_a_500_is_a_failed_result_recorded_in_the_audit_log(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, audit: AuditLog
) -> None:
    httpserver.expect_request(f"/hook/{SECRET}").respond_with_data("boom", status=500)
    httpserver.expect_oneshot_request("/ok").respond_with_data("ok")
    monkeypatch.setenv("HOOK_URL", httpserver.url_for(f"/hook/{SECRET}") + f"?t={SECRET}")
    monkeypatch.setenv("SLACK_URL", httpserver.url_for("/ok"))
    sinks = [
        NotifyConfig(kind="slack", url_env="SLACK_URL"),
        NotifyConfig(kind="webhook", url_env="HOOK_URL"),
    ]
    results = send(sinks, audit=audit, who="alice")
    assert results[0] == SinkResult(sink="slack[0]", ok=True)
    failed = results[1]
    assert (failed.sink, failed.ok) == ("webhook[1]", False)
    assert failed.error.startswith("HTTP 500")
    assert SECRET not in failed.error and "\n" not in failed.error

    [record] = audit.tail()
    assert (record.who, record.action, record.target, record.outcome, record.comment) == (
        "alice",
        "notify",
        "webhook[1]",
        "failed",
        failed.error,
    )
    assert SECRET not in exported(audit)


def test_a_hanging_sink_times_out_and_blocks_no_other(
    threaded: HTTPServer, monkeypatch: pytest.MonkeyPatch, audit: AuditLog
) -> None:
    release = threading.Event()

    def hang(request: Request) -> Response:
        release.wait(30)
        return Response("too late")

    threaded.expect_request("/hang").respond_with_handler(hang)
    threaded.expect_request("/ok").respond_with_data("ok")
    monkeypatch.setenv("HANG_URL", threaded.url_for("/hang"))
    monkeypatch.setenv("OK_URL", threaded.url_for("/ok"))
    sinks = [
        NotifyConfig(kind="matrix", url_env="HANG_URL", timeout=0.3),
        NotifyConfig(kind="webhook", url_env="OK_URL", timeout=10),
    ]
    try:
        results = send(sinks, audit=audit, who="bob")
    finally:
        release.set()
    assert results == [
        SinkResult(sink="matrix[0]", ok=False, error="timed out after 0.3s"),
        SinkResult(sink="webhook[1]", ok=True),
    ]
    [record] = audit.tail()
    assert (record.action, record.outcome, record.comment) == (
        "notify",
        "failed",
        "timed out after 0.3s",
    )


def test_sinks_are_sent_concurrently(threaded: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each handler waits for the other: only requests in flight together both succeed."""
    both = threading.Barrier(2, timeout=10)

    def meet(request: Request) -> Response:
        try:
            both.wait()
        except threading.BrokenBarrierError:
            return Response("alone", status=500)
        return Response("ok")

    threaded.expect_request("/a").respond_with_handler(meet)
    threaded.expect_request("/b").respond_with_handler(meet)
    monkeypatch.setenv("A_URL", threaded.url_for("/a"))
    monkeypatch.setenv("B_URL", threaded.url_for("/b"))
    results = send(
        [
            NotifyConfig(kind="webhook", url_env="A_URL", timeout=20),
            NotifyConfig(kind="slack", url_env="B_URL", timeout=20),
        ]
    )
    assert [r.ok for r in results] == [True, True], results


def test_a_missing_variable_is_a_failed_result(
    monkeypatch: pytest.MonkeyPatch, audit: AuditLog
) -> None:
    monkeypatch.delenv("QUORUM_NO_SUCH_URL", raising=False)
    results = send([NotifyConfig(kind="slack", url_env="QUORUM_NO_SUCH_URL")], audit=audit)
    assert results == [
        SinkResult(sink="slack[0]", ok=False, error="$QUORUM_NO_SUCH_URL is not set")
    ]
    [record] = audit.tail()
    assert record.who == current_user()  # the OS account when no one is named
    assert record.comment == "$QUORUM_NO_SUCH_URL is not set"


def test_unreachable_and_malformed_urls_are_named_without_the_url(
    monkeypatch: pytest.MonkeyPatch, audit: AuditLog
) -> None:
    closed = HTTPServer(host="127.0.0.1")
    closed.start()
    url = closed.url_for(f"/{SECRET}")
    closed.stop()  # nothing listens there any more
    monkeypatch.setenv("GONE_URL", url)
    monkeypatch.setenv("BAD_URL", f"ftp://{SECRET}@example.org/")
    results = send(
        [
            NotifyConfig(kind="webhook", url_env="GONE_URL"),
            NotifyConfig(kind="webhook", url_env="BAD_URL"),
        ],
        audit=audit,
        who="carol",
    )
    assert results == [
        SinkResult(sink="webhook[0]", ok=False, error="connection failed"),
        SinkResult(sink="webhook[1]", ok=False, error="the URL is not a valid http(s) URL"),
    ]
    assert [r.comment for r in audit.tail()] == [r.error for r in results]
    assert SECRET not in exported(audit)


def test_without_an_audit_log_failures_are_still_results(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUORUM_NO_SUCH_URL", raising=False)
    results = send([NotifyConfig(kind="matrix", url_env="QUORUM_NO_SUCH_URL")])
    assert [(r.sink, r.ok) for r in results] == [("matrix[0]", False)]
    assert send([]) == []
