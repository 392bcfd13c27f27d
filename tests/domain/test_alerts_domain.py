"""Which alerts fire, in which order, and which rows they name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.domain.alerts import Alert, alerts_on, firing, is_critical

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def alert(name: str, severity: str = "", **kw: object) -> Alert:
    return Alert(provider="am", fingerprint=name.lower(), name=name, severity=severity, **kw)


def test_known_severities_come_first_in_their_order_then_others_by_name_then_the_oldest() -> None:
    alerts = [
        alert("Info", "info"),
        alert("Custom", "page-now"),
        alert("NewCrit", "critical", starts_at=T0 + timedelta(minutes=5)),
        alert("Warn", "WARNING"),
        alert("OldCrit", "critical", starts_at=T0),
        alert("Bare"),
        alert("Err", "error"),
    ]
    names = [a.name for a in firing(alerts)]
    assert names == ["OldCrit", "NewCrit", "Err", "Warn", "Info", "Bare", "Custom"]


def test_silenced_and_inhibited_alerts_do_not_fire() -> None:
    alerts = [
        alert("Quiet", "critical", silenced_by=("s-1",)),
        alert("Inhibited", "critical", state="suppressed"),
        alert("Loud", "warning"),
    ]
    assert [a.name for a in firing(alerts)] == ["Loud"]


def test_an_alert_names_its_service_in_its_environment_or_in_every_one() -> None:
    alerts = [
        alert("Prod", "critical", service="api", environment="production"),
        alert("Any", "warning", service="api"),
        alert("Other", "critical", service="web"),
        alert("Nobody", "critical"),
    ]
    assert [a.name for a in alerts_on(alerts, "api", "production")] == ["Prod", "Any"]
    assert [a.name for a in alerts_on(alerts, "api", "staging")] == ["Any"]
    assert alerts_on(alerts, "db", "production") == []


def test_critical_and_error_make_health_critical_the_rest_a_warning() -> None:
    assert [is_critical(alert("x", s)) for s in ("critical", "Error", "warning", "", "sev1")] == [
        True, True, False, False, False,
    ]  # fmt: skip
