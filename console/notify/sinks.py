"""Tells the team what happened, through the sinks in the config's [[notify]] tables:
chat webhooks (Slack, Matrix, any webhook), email over SMTP and PagerDuty events.

A notification is a courtesy on top of the audit log, never a reason for an action
to fail: every sink is sent at once with its own deadline, and a sink that is
missing, refuses or hangs yields a failed `SinkResult` (and an audit record) instead
of an exception or a wait. Webhook URLs often carry a token (Slack's path, Matrix's
`access_token`), so they come from an environment variable, as do the SMTP password
and PagerDuty's routing key, and no message here ever quotes them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from console.domain.inert import neutralise
from console.domain.names import current_user
from console.domain.settings import MAX_NOTIFY_TIMEOUT, NotifyConfig
from console.notify import pagerduty
from console.notify.email import send_email
from console.store.audit import AuditLog

SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class Notice:
    title: str
    text: str
    severity: str = "info"  # info | warning | critical
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SinkResult:
    sink: str  # the kind and its position among the [[notify]] tables: "slack[0]"
    ok: bool
    error: str = ""  # one line; never the URL


def _plain(notice: Notice) -> str:
    """The notice as chat text: a severity-tagged title, the text, then `key: value` lines."""
    lines = [f"[{notice.severity}] {notice.title}", notice.text]
    lines += [f"{name}: {value}" for name, value in notice.fields.items()]
    return "\n".join(line for line in lines if line)


def _slack_escape(text: str) -> str:
    """Slack reads `<...>` as links and mentions (`<!channel>`); these make them literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def body_for(kind: str, notice: Notice) -> dict[str, object]:
    """The JSON body each kind of sink expects."""
    if kind == "slack":
        return {"text": _slack_escape(_plain(notice))}
    if kind == "matrix":
        return {"msgtype": "m.text", "body": _plain(notice)}
    return {
        "title": notice.title,
        "text": notice.text,
        "severity": notice.severity,
        "fields": dict(notice.fields),
    }


def _inert(notice: Notice) -> Notice:
    """Backend text reaches people's chat clients too: control characters made visible."""
    return Notice(
        title=neutralise(notice.title),
        text=neutralise(notice.text),
        severity=notice.severity if notice.severity in SEVERITIES else "info",
        fields={neutralise(str(k)): neutralise(str(v)) for k, v in notice.fields.items()},
    )


def _failure(exc: BaseException, timeout: float) -> str:
    """One line saying what went wrong, built from the error's kind, never its text.

    httpx messages quote the request URL, which may hold the token.
    """
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return f"timed out after {timeout:g}s"
    if isinstance(exc, httpx.HTTPStatusError):
        reason = neutralise(exc.response.reason_phrase)  # the server's words: data
        return f"HTTP {exc.response.status_code} {reason}".strip()
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "the URL is not a valid http(s) URL"
    if isinstance(exc, httpx.ConnectError):
        return "connection failed"
    if isinstance(exc, httpx.TransportError):
        return f"transport error ({type(exc).__name__})"
    return f"unexpected error ({type(exc).__name__})"


def _bounded(timeout: float) -> float:
    """The sink's timeout, bounded whatever the settings say (a NotifyConfig built in
    code skips the config's check, and `inf` or `nan` would wait for ever)."""
    return timeout if 0 < timeout <= MAX_NOTIFY_TIMEOUT else MAX_NOTIFY_TIMEOUT


async def _post(client: httpx.AsyncClient, url: str, body: object, timeout: float) -> str:
    """One POST under one deadline; "" on a 2xx or the one-line reason it failed."""
    try:
        async with asyncio.timeout(timeout):  # the whole exchange, not just each read
            response = await client.post(url, json=body, timeout=timeout)
            response.raise_for_status()
    except Exception as exc:  # a sink's failure is a result, never a crash
        return _failure(exc, timeout)
    return ""


async def _send(client: httpx.AsyncClient, sink: NotifyConfig, notice: Notice) -> str:
    """Sends to one sink; returns "" on success or the one-line reason it failed."""
    timeout = _bounded(sink.timeout)
    if sink.kind == "email":
        if sink.email is None:
            return "no SMTP server configured"
        subject = f"[{notice.severity}] {notice.title}"
        return await send_email(sink.email, subject, _plain(notice), timeout)
    if sink.kind == "pagerduty":
        key = os.environ.get(sink.routing_key_env, "").strip()
        if not key:
            return f"${sink.routing_key_env} is not set"
        body = pagerduty.event(key, notice.title, notice.text, notice.severity, notice.fields)
        return await _post(client, sink.events_url, body, timeout)
    if sink.kind not in ("slack", "matrix", "webhook"):
        return f"unknown notify kind {neutralise(sink.kind)!r}"
    url = os.environ.get(sink.url_env, "").strip()
    if not url:
        return f"${sink.url_env} is not set"
    return await _post(client, url, body_for(sink.kind, notice), timeout)


async def send_all(
    sinks: Sequence[NotifyConfig],
    notice: Notice,
    *,
    audit: AuditLog | None = None,
    who: str = "",
) -> list[SinkResult]:
    """Sends `notice` to every sink concurrently; one result per sink, in config order.

    Each failure is recorded in `audit` (action "notify", outcome "failed", the sink
    as target, the reason as comment) under `who`, by default the OS account.
    """
    if not sinks:
        return []
    notice = _inert(notice)
    names = [f"{sink.kind}[{index}]" for index, sink in enumerate(sinks)]
    async with httpx.AsyncClient(follow_redirects=False) as client:
        errors = await asyncio.gather(*(_send(client, sink, notice) for sink in sinks))
    results = [
        SinkResult(sink=name, ok=not error, error=error)
        for name, error in zip(names, errors, strict=True)
    ]
    if audit is not None:
        actor = who or current_user()
        for result in results:
            if not result.ok:
                # In a thread: the caller's loop keeps running while the file is locked.
                await asyncio.to_thread(
                    audit.append,
                    who=actor,
                    action="notify",
                    target=result.sink,
                    outcome="failed",
                    comment=result.error,
                )
    return results
