"""A metric plot's header at the widths the panes give it: the latest value and both
thresholds are read whole, on a second line when one line is too narrow."""

from __future__ import annotations

import pytest

from console.domain.model import CPU, ERROR_RATE, P99
from widgets.panes.metrics import plot


def _header(text: str, lines: int) -> list[str]:
    return text.split("\n")[:lines]


@pytest.mark.parametrize(
    ("metric", "values", "levels", "value", "limits"),
    [
        (CPU, [3.0, 3.5], (70.0, 90.0), "CPU% 3.5", "┄70 ┄90"),
        (P99, [900.0, 1315.04], (500.0, 1000.0), "p99ms 1315", "┄500 ┄1000"),
        (ERROR_RATE, [0.2], (1.0, 5.0), "ERR% 0.2", "┄1 ┄5"),
    ],
)
def test_thresholds_are_never_cut(
    metric: str, values: list[float], levels: tuple[float, float], value: str, limits: str
) -> None:
    for width in range(len(value), 40):
        text = plot(metric, values, levels, width, 10).plain
        lines = text.split("\n")
        assert len(lines) == 10, width  # header lines and bars fill the chart, no more
        one = f"{value} {limits}"
        long = f"{value} {limits.replace('┄', '┄warn ', 1).replace(' ┄', ' ┄crit ')}"
        if width >= len(long):
            assert lines[0] == long, width
        elif width >= len(one):
            assert lines[0] == one, width
        else:
            assert lines[:2] == [value, limits], width


def test_a_chart_too_low_for_two_header_lines_keeps_one() -> None:
    text = plot(P99, [1315.0], (500.0, 1000.0), 15, 3).plain
    lines = text.split("\n")
    assert len(lines) == 3
    assert lines[0] == "p99ms 1315 ┄500"[:15]
