"""Every `--json` instant is ISO-8601 in UTC to the second with a "Z", however it was
made: with or without a fraction, in any zone, in any year."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from console.domain.instants import iso_utc

ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-11))]
)
INSTANTS = st.datetimes(
    min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=ZONES
)


@given(INSTANTS, st.booleans())
def test_an_instant_is_its_utc_second_with_a_z(value: datetime, whole: bool) -> None:
    if whole:
        value = value.replace(microsecond=0)
    assert iso_utc(value) == value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert iso_utc(None) is None
