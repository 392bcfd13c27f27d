"""A long action's progress on stderr: a bar redrawn in place on a terminal, a few
lines elsewhere, backend text inert either way."""

from __future__ import annotations

import io

from console.cli.runner import ProgressLine


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_one_bar_is_redrawn_and_ends_with_a_newline() -> None:
    out = Terminal()
    show = ProgressLine(out)
    for done in range(1, 5):
        show(f"docs: uploaded f{done}.html", done, 4)
    text = out.getvalue()
    assert text.count("\r\x1b[K") == 4 and text.endswith("\n") and text.count("\n") == 1
    assert "[######------------------] 1/4 docs: uploaded f1.html" in text
    assert "[########################] 4/4 docs: uploaded f4.html" in text


def test_elsewhere_a_line_per_tenth_and_the_last() -> None:
    out = io.StringIO()
    show = ProgressLine(out)
    for done in range(1, 101):
        show(f"f{done}", done, 100)
    lines = out.getvalue().splitlines()
    assert lines[0] == "1/100 f1" and lines[-1] == "100/100 f100"
    assert len(lines) == 11


def test_steps_without_a_total_are_lines_and_backend_text_is_inert() -> None:
    out = io.StringIO()
    ProgressLine(out)("ecs-svc/1 IN_PROGRESS: \x1b]0;pwned\x07", 1, 0)
    assert out.getvalue() == "ecs-svc/1 IN_PROGRESS: ␛]0;pwned␇\n"
