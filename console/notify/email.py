"""The `email` sink: one message through an SMTP server, upgraded with STARTTLS before
anything is said, logged in with a password read from the environment.

smtplib blocks, so the exchange runs in a worker thread under the sink's deadline;
a server that hangs costs the thread, never the caller's wait. No message here
quotes the password, and the server's own words are treated as data.
"""

from __future__ import annotations

import asyncio
import os
import smtplib
import ssl
from email.message import EmailMessage

from console.domain.inert import neutralise
from console.domain.settings import EmailConfig


class MailFailure(Exception):
    """One line saying why the message was not accepted."""


def message(config: EmailConfig, subject: str, body: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = config.sender
    mail["To"] = ", ".join(config.to)
    mail["Subject"] = " ".join(subject.split())[:200]  # no header injection by newline
    mail.set_content(body)
    return mail


def _context(config: EmailConfig) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if config.ca_file:
        context.load_verify_locations(cafile=os.path.expanduser(config.ca_file))
    return context


def _deliver(config: EmailConfig, mail: EmailMessage, password: str, timeout: float) -> None:
    with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=timeout) as smtp:
        smtp.ehlo()
        if config.starttls:
            if not smtp.has_extn("starttls"):
                raise MailFailure("the server offers no STARTTLS")
            smtp.starttls(context=_context(config))
            smtp.ehlo()
        if config.username:
            smtp.login(config.username, password)
        smtp.send_message(mail)


def describe(exc: BaseException) -> str:
    """One line from the error's kind and the server's code, never the password."""
    if isinstance(exc, MailFailure):
        return str(exc)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"login refused ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"recipients refused ({len(exc.recipients)})"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"sender refused ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP {exc.smtp_code} {neutralise(str(exc.smtp_error, 'utf-8', 'replace'))[:80]}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({neutralise(exc.reason or type(exc).__name__)})"
    if isinstance(exc, ConnectionError | smtplib.SMTPServerDisconnected):
        return "connection failed"
    if isinstance(exc, OSError) and "timed out" in str(exc):
        return "timed out"
    return f"unexpected error ({type(exc).__name__})"


async def send_email(config: EmailConfig, subject: str, body: str, timeout: float) -> str:
    """Sends one message; "" on success or the one-line reason it failed."""
    password = ""
    if config.username:
        password = os.environ.get(config.password_env, "")
        if not password:
            return f"${config.password_env} is not set"
    mail = message(config, subject, body)
    try:
        async with asyncio.timeout(timeout):
            await asyncio.to_thread(_deliver, config, mail, password, timeout)
    except TimeoutError:
        return f"timed out after {timeout:g}s"
    except Exception as exc:  # a sink's failure is a result, never a crash
        return describe(exc)
    return ""
