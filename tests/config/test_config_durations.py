"""Durations as written in the config (`vote_ttl`) and on the command line (`--since`)."""

from __future__ import annotations

import argparse
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.domain.durations import MAX_DURATION, DurationError, duration_type, parse_duration

UNIT_KWARGS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        (" 15m ", timedelta(minutes=15)),
        ("0s", timedelta()),
    ],
)
def test_parses(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "5", "h", "1 day", "1.5h", "-5m", "5M", "1y", "5mm", "m5"])
def test_rejects_with_a_hint(text):
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert str(caught.value) == (
        f"invalid duration {text!r}; use a whole number and a unit s, m, h, d or w: "
        "90s, 30m, 24h, 7d, 1h30m"
    )


def test_rejects_what_is_not_text():
    with pytest.raises(DurationError, match="expected a duration string"):
        parse_duration(24)  # type: ignore[arg-type]


@given(st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from("smhdw")), min_size=1))
def test_parts_add_up(parts):
    text = "".join(f"{count}{unit}" for count, unit in parts)
    expected = sum((timedelta(**{UNIT_KWARGS[u]: c}) for c, u in parts), timedelta())
    if expected <= MAX_DURATION:
        assert parse_duration(text) == expected
    else:
        with pytest.raises(DurationError, match="duration too long: at most 520w"):
            parse_duration(text)


@pytest.mark.parametrize("text", ["99999999999w", "9" * 5000 + "s", "521w", "1w" * 600])
def test_huge_durations_are_one_clear_error(text):
    with pytest.raises(DurationError, match="^duration too long: at most 520w$"):
        parse_duration(text)


def test_argparse_type_gives_the_message_and_exit_2(capsys):
    parser = argparse.ArgumentParser(prog="quorum logs")
    parser.add_argument("--since", type=duration_type)
    assert parser.parse_args(["--since", "45m"]).since == timedelta(minutes=45)
    with pytest.raises(SystemExit) as caught:
        parser.parse_args(["--since", "yesterday"])
    assert caught.value.code == 2
    assert "argument --since: invalid duration 'yesterday'" in capsys.readouterr().err
