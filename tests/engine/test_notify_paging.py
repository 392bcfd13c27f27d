"""The paging sinks against real servers on loopback: email through aiosmtpd with
STARTTLS and a login, PagerDuty's Events API v2 through pytest-httpserver; each
failure a result and an audit record that never quotes the secret."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from console.config.load import ConfigError, load_config
from console.domain.settings import EmailConfig, NotifyConfig
from console.notify.sinks import Notice, SinkResult, send_all
from console.store.audit import AuditLog
from tests.smtp_support import PASSWORD, USER, SilentServer, smtp_server

ROUTING_KEY = "R0UT1NGKEY0000000000000000000abc"
NOTICE = Notice(
    title="Override: api to production",
    text="alice overrode the quorum: outage",
    severity="critical",
    fields={"service": "api", "environment": "production", "revision": "v2.9.0"},
)


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditLog]:
    with AuditLog(tmp_path / "audit.db") as log:
        yield log


def send(sinks: list[NotifyConfig], **kwargs: object) -> list[SinkResult]:
    return asyncio.run(send_all(sinks, NOTICE, **kwargs))  # type: ignore[arg-type]


def exported(audit: AuditLog) -> str:
    out = io.StringIO()
    audit.export_jsonl(out)
    return out.getvalue()


def mail_sink(port: int, ca_file: Path | None, **overrides: object) -> NotifyConfig:
    email = EmailConfig(
        smtp_host="127.0.0.1",
        smtp_port=port,
        sender="quorum@example.org",
        to=("oncall@example.org", "ops@example.org"),
        username=USER,
        password_env="QUORUM_SMTP_PASSWORD",
        ca_file=str(ca_file or ""),
    )
    for key, value in overrides.items():
        email = EmailConfig(**{**email.__dict__, key: value})
    return NotifyConfig(kind="email", email=email, timeout=5)


def test_email_goes_over_starttls_with_the_password_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller, mailbox, cert = smtp_server(tmp_path)
    monkeypatch.setenv("QUORUM_SMTP_PASSWORD", PASSWORD)
    try:
        results = send([mail_sink(controller.port, cert)])
    finally:
        controller.stop()
    assert results == [SinkResult(sink="email[0]", ok=True)]
    (mail,) = mailbox.received
    assert mail.over_tls and mail.login == USER
    assert mail.recipients == ["oncall@example.org", "ops@example.org"]
    assert mail.message["Subject"] == "[critical] Override: api to production"
    assert mail.message["From"] == "quorum@example.org"
    body = mail.message.get_payload(decode=True).decode()
    assert "alice overrode the quorum: outage" in body and "revision: v2.9.0" in body


def test_a_refused_password_is_audited_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, audit: AuditLog
) -> None:
    controller, mailbox, cert = smtp_server(tmp_path)
    monkeypatch.setenv("QUORUM_SMTP_PASSWORD", "not-" + PASSWORD)
    try:
        (result,) = send([mail_sink(controller.port, cert)], audit=audit, who="alice")
    finally:
        controller.stop()
    assert (result.ok, result.error) == (False, "login refused (535)")
    assert mailbox.received == []
    [record] = audit.tail()
    assert (record.action, record.target, record.outcome) == ("notify", "email[0]", "failed")
    assert PASSWORD not in exported(audit)


def test_an_untrusted_certificate_stops_the_mail_before_the_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller, mailbox, _ = smtp_server(tmp_path)
    monkeypatch.setenv("QUORUM_SMTP_PASSWORD", PASSWORD)
    try:
        (result,) = send([mail_sink(controller.port, None)])  # the system's CAs only
    finally:
        controller.stop()
    assert not result.ok and result.error.startswith("TLS failed")
    assert mailbox.received == []


def test_a_server_without_starttls_never_sees_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller, mailbox, cert = smtp_server(tmp_path, tls=False)
    monkeypatch.setenv("QUORUM_SMTP_PASSWORD", PASSWORD)
    try:
        (result,) = send([mail_sink(controller.port, cert)])
    finally:
        controller.stop()
    assert (result.ok, result.error) == (False, "the server offers no STARTTLS")
    assert mailbox.received == []


def test_a_hanging_smtp_server_times_out_and_blocks_no_other_sink(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, audit: AuditLog
) -> None:
    silent = SilentServer()
    httpserver.expect_request("/hook").respond_with_data("ok")
    monkeypatch.setenv("QUORUM_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("HOOK_URL", httpserver.url_for("/hook"))
    hanging = NotifyConfig(kind="email", timeout=0.5, email=mail_sink(silent.port, None).email)
    try:
        results = send([hanging, NotifyConfig("webhook", "HOOK_URL")], audit=audit)
    finally:
        silent.close()
    assert results == [
        SinkResult(sink="email[0]", ok=False, error="timed out after 0.5s"),
        SinkResult(sink="webhook[1]", ok=True),
    ]
    [record] = audit.tail()
    assert (record.target, record.comment) == ("email[0]", "timed out after 0.5s")


def test_an_unset_password_variable_is_a_failed_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("QUORUM_SMTP_PASSWORD", raising=False)
    (result,) = send([mail_sink(1, None)])
    assert (result.ok, result.error) == (False, "$QUORUM_SMTP_PASSWORD is not set")


def pagerduty_sink(httpserver: HTTPServer) -> NotifyConfig:
    return NotifyConfig(kind="pagerduty", routing_key_env="QUORUM_PD_KEY",
                        events_url=httpserver.url_for("/v2/enqueue"))  # fmt: skip


def test_pagerduty_gets_a_trigger_event_with_the_documented_body(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_oneshot_request("/v2/enqueue", method="POST").respond_with_json(
        {"status": "success", "message": "Event processed", "dedup_key": "k1"}, status=202
    )
    monkeypatch.setenv("QUORUM_PD_KEY", ROUTING_KEY)
    assert send([pagerduty_sink(httpserver)]) == [SinkResult(sink="pagerduty[0]", ok=True)]
    ((request, _),) = httpserver.log
    body = json.loads(request.data)
    assert (body["routing_key"], body["event_action"]) == (ROUTING_KEY, "trigger")
    payload = body["payload"]
    assert payload["summary"] == NOTICE.title
    assert (payload["severity"], payload["source"]) == ("critical", "api")
    assert (payload["component"], payload["group"]) == ("api", "production")
    assert payload["custom_details"] == {"text": NOTICE.text, **NOTICE.fields}
    assert payload["timestamp"].endswith("+00:00")
    assert ROUTING_KEY not in request.url


@pytest.mark.parametrize(("status", "reason"), [(400, "BAD REQUEST"), (429, "TOO MANY REQUESTS")])
def test_pagerduty_refusals_are_audited_without_the_routing_key(
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    audit: AuditLog,
    status: int,
    reason: str,
) -> None:
    httpserver.expect_request("/v2/enqueue").respond_with_json(
        {"status": "invalid event", "message": f"Event object is invalid {ROUTING_KEY}"},
        status=status,
    )
    monkeypatch.setenv("QUORUM_PD_KEY", ROUTING_KEY)
    (result,) = send([pagerduty_sink(httpserver)], audit=audit)
    assert not result.ok and result.error.upper() == f"HTTP {status} {reason}"
    assert ROUTING_KEY not in exported(audit)


def write(tmp_path: Path, notify: str) -> Path:
    path = tmp_path / "quorum.toml"
    path.write_text(f'[team]\nmembers = ["alice"]\n\n{notify}')
    return path


def test_email_and_pagerduty_blocks_load_from_the_config(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, """
[[notify]]
kind = "email"
smtp_host = "smtp.example.org"
from = "quorum@example.org"
to = ["oncall@example.org"]
username = "quorum"
password_env = "QUORUM_SMTP_PASSWORD"

[[notify]]
kind = "pagerduty"
routing_key_env = "QUORUM_PD_KEY"
timeout = 3
"""))  # fmt: skip
    email, pager = config.notify
    assert email.email == EmailConfig("smtp.example.org", "quorum@example.org",
                                      ("oncall@example.org",), 587, True, "quorum",
                                      "QUORUM_SMTP_PASSWORD")  # fmt: skip
    assert (pager.routing_key_env, pager.timeout) == ("QUORUM_PD_KEY", 3.0)
    assert pager.events_url == "https://events.pagerduty.com/v2/enqueue"


def test_a_password_or_key_in_the_config_is_refused_without_being_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, f"""
[[notify]]
kind = "email"
smtp_host = "smtp.example.org"
from = "quorum@example.org"
to = ["oncall"]
username = "quorum"
password = "{PASSWORD}"

[[notify]]
kind = "pagerduty"
routing_key_env = "{ROUTING_KEY}-not-a-name"
"""))  # fmt: skip
    text = str(caught.value)
    assert PASSWORD not in text and ROUTING_KEY not in text
    for key in ("notify[0].password", "notify[0].to[0]", "notify[0].password_env",
                "notify[1].routing_key_env"):  # fmt: skip
        assert key in text, text
