"""Alerts read from the providers that watch them, and silences made through Quorum.

A silence needs no vote: like a rollback, anyone on the team may quiet a page, but
the act is audited and the team told, so nobody wonders later why an alert went
quiet. A read-only console refuses it before anything is sent. Alert ids have the
form `PROVIDER:FINGERPRINT`, as `quorum alerts` lists them; a unique prefix of the
fingerprint is enough.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from console.domain.alerts import Alert, by_severity
from console.domain.errors import PolicyRefused, QuorumError, UsageError
from console.domain.inert import echo
from console.domain.instants import iso_utc
from console.engine.actions import Actions
from console.engine.reads import ReadFailed, bounded, take_snapshot
from console.engine.session import Session
from console.notify.sinks import Notice, send_all
from providers.base import Capability, Provider, ProviderError


@dataclass(frozen=True)
class AlertReading:
    """Every alert the alert providers hold now, and the ones that could not be asked."""

    alerts: tuple[Alert, ...]
    errors: tuple[str, ...]


@dataclass(frozen=True)
class SilenceResult:
    """What one silence or expiry did, for both front ends."""

    action: str  # "silence" | "expire-silence"
    provider: str
    silence: str  # the silence's id
    detail: str

    def describe(self) -> str:
        return self.detail

    def to_json(self) -> dict[str, str]:
        return {
            "action": self.action,
            "provider": self.provider,
            "silence": self.silence,
            "detail": self.detail,
        }


class SilenceFailed(QuorumError):
    """The backend refused or could not take the silence (recorded in the audit log)."""


def alert_providers(session: Session) -> list[Provider]:
    return [p for p in session.providers.values() if p.capabilities & Capability.ALERTS]


async def read_alerts(session: Session) -> AlertReading:
    """One read of every alert provider at once, most severe alert first."""
    providers = alert_providers(session)

    async def one(provider: Provider) -> tuple[Alert, ...]:
        snapshot = await bounded(provider, "alerts", take_snapshot(provider))
        return snapshot.alerts

    answers = await asyncio.gather(*(one(p) for p in providers), return_exceptions=True)
    alerts: list[Alert] = []
    errors: list[str] = []
    for provider, answer in zip(providers, answers, strict=True):
        if isinstance(answer, ReadFailed):
            errors.append(f"{provider.name}: {answer}")
        elif isinstance(answer, BaseException):
            raise answer
        else:
            alerts.extend(answer)
    for broken in session.broken:
        if broken.kind == "alertmanager":
            errors.append(f"{broken.name}: {broken.reason}")
    return AlertReading(tuple(by_severity(alerts)), tuple(errors))


def _silencer(actions: Actions, name: str) -> Provider:
    provider = actions.session.providers.get(name)
    if provider is None or not provider.capabilities & Capability.SILENCE:
        raise UsageError(
            f"{echo(name) or 'that'} names no configured alert provider "
            "(alert ids look like PROVIDER:FINGERPRINT, as `quorum alerts` lists them)"
        )
    if not provider.can(Capability.SILENCE):
        raise PolicyRefused(f"provider {provider.name} is read-only: cannot silence alerts")
    return provider


async def find_alert(actions: Actions, alert_id: str) -> tuple[Provider, Alert]:
    """The alert `alert_id` names as its provider lists it now (a unique prefix will do)."""
    name, _, fingerprint = alert_id.partition(":")
    if not fingerprint:
        providers = [p.name for p in alert_providers(actions.session)]
        if len(providers) != 1:
            raise UsageError("name the alert as PROVIDER:FINGERPRINT, as `quorum alerts` lists it")
        name, fingerprint = providers[0], alert_id
    provider = _silencer(actions, name)
    snapshot = await bounded(provider, "alerts", take_snapshot(provider))
    found = [a for a in snapshot.alerts if a.fingerprint.startswith(fingerprint)]
    if len(found) != 1:
        what = "matches several alerts" if found else "is not active (resolved already?)"
        raise UsageError(f"alert {echo(alert_id) or alert_id!r} {what}")
    return provider, found[0]


async def silence_alert(
    actions: Actions, alert_id: str, duration: timedelta, comment: str
) -> SilenceResult:
    """Silences one alert for `duration`; audited and the team told, refused read-only."""
    actions.guard("silence an alert")
    if not comment.strip():
        raise UsageError("a comment is needed: say why the alert may stay quiet")
    if duration <= timedelta(0):
        raise UsageError("the silence needs a duration above zero")
    provider, alert = await find_alert(actions, alert_id)
    until: datetime = actions.clock() + duration
    try:
        silence = await provider.silence(alert, until, comment, actions.identity.name)
    except ProviderError as exc:
        await _audit(actions, "silence", alert, "", "failed", f"{comment}: {exc}")
        raise SilenceFailed(f"{alert.id}: silence not made: {exc}") from None
    detail = f"{alert.name} ({alert.id}) silenced until {until:%Y-%m-%d %H:%M} UTC as {silence}"
    await _audit(
        actions, "silence", alert, silence, "finished", f"{comment}; until {iso_utc(until)}"
    )
    await _notify(actions, f"{alert.name} silenced by {actions.identity.name}", detail, comment)
    return SilenceResult("silence", provider.name, silence, detail)


async def expire_silence(actions: Actions, silence: str, provider_name: str = "") -> SilenceResult:
    """Ends a silence now, on the one alert provider (or the one named)."""
    actions.guard("expire a silence")
    names = [provider_name] if provider_name else [p.name for p in alert_providers(actions.session)]
    if len(names) != 1:
        raise UsageError("several alert providers: name one with --provider")
    provider = _silencer(actions, names[0])
    target = f"{provider.name}/silence/{silence}"
    try:
        detail = await provider.expire(silence)
    except ProviderError as exc:
        await _record(actions, "expire-silence", target, silence, "failed", str(exc))
        raise SilenceFailed(f"silence {echo(silence) or silence!r} not expired: {exc}") from None
    await _record(actions, "expire-silence", target, silence, "finished", detail)
    await _notify(actions, f"silence expired by {actions.identity.name}", detail, "")
    return SilenceResult("expire-silence", provider.name, silence, detail)


async def _audit(
    actions: Actions, action: str, alert: Alert, silence: str, outcome: str, comment: str
) -> None:
    target = f"{alert.provider}/{alert.service or '-'}/{alert.environment or '-'}"
    note = f"{alert.name} [{alert.fingerprint}]: {comment}"
    await _record(actions, action, target, silence, outcome, note, alert.environment or "")


async def _record(
    actions: Actions,
    action: str,
    target: str,
    silence: str,
    outcome: str,
    comment: str,
    environment: str = "",
) -> None:
    await actions.in_worker(
        lambda: actions.record(
            action,
            target=target,
            environment=environment,
            revision=silence,
            outcome=outcome,
            comment=comment,
            key=f"silence:{silence}" if silence else "",
        )
    )


async def _notify(actions: Actions, title: str, text: str, comment: str) -> None:
    if not actions.config.notify:
        return
    fields = {"comment": comment} if comment else {}
    notice = Notice(title=title, text=text, severity="info", fields=fields)
    with contextlib.suppress(Exception):  # a sink never undoes a silence
        await send_all(
            actions.config.notify, notice, audit=actions.audit, who=actions.identity.name
        )
