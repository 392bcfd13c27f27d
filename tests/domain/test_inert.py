"""Backend text cannot drive the terminal or Rich, whatever it carries."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from console.domain.inert import INVISIBLE, escape_json_text, inert_markup, neutralise

HOSTILE = (
    "\x1b]0;pwned\x07"  # OSC: retitle the terminal
    "\x1b]52;c;ZWNobyBoaQ==\x1b\\"  # OSC 52: write the clipboard
    "\x1b[2J\x1b[H"  # CSI: clear screen, cursor home
    "\x9b31m"  # 8-bit CSI
    "[bold red]FAKE PROMPT[/bold red] done\r\n"
)
FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def test_hostile_line_becomes_visible_literal_text() -> None:
    safe = neutralise(HOSTILE)
    assert not FORBIDDEN.search(safe)
    assert "␛]0;pwned␇" in safe
    assert "␛]52;c;ZWNobyBoaQ==␛\\" in safe
    assert "␛[2J␛[H" in safe
    assert "\\x9b31m" in safe
    assert safe.endswith("[bold red]FAKE PROMPT[/bold red] done␍␊")


def test_markup_is_escaped_so_rich_shows_it_literally() -> None:
    rendered = Text.from_markup(inert_markup(HOSTILE))
    assert "[bold red]FAKE PROMPT[/bold red]" in rendered.plain
    assert rendered.spans == []  # no style came from the backend text


def test_tab_and_ordinary_unicode_pass_through() -> None:
    assert neutralise("GET /api\t200 — 12ms ✓") == "GET /api\t200 — 12ms ✓"


def test_unterminated_osc_is_neutralised_to_the_end() -> None:
    assert neutralise("a\x1b]8;;http://evil/\x1b") == "a␛]8;;http://evil/␛"


@given(st.text())
def test_no_control_character_survives(text: str) -> None:
    assert not FORBIDDEN.search(neutralise(text))


@given(st.text())
def test_written_to_a_terminal_it_emits_no_escape_but_rich_styling(text: str) -> None:
    console = Console(force_terminal=True, color_system=None, width=200, record=False)
    with console.capture() as capture:
        console.print(inert_markup(text), markup=True, highlight=False, end="")
    assert "\x1b]" not in capture.get()
    assert "\x07" not in capture.get()


@given(st.text(alphabet=st.characters(max_codepoint=0x2070)))
def test_json_text_keeps_no_control_or_invisible_character_and_decodes_the_same(
    text: str,
) -> None:
    """ASCII text skips the pattern; DEL is ASCII, so that shortcut must not skip it."""
    document = json.dumps({"reason": text, "plain": "v1 ok"}, ensure_ascii=False)
    escaped = escape_json_text(document)
    assert not re.search(f"[\\x7f-\\x9f{INVISIBLE}]", escaped)
    assert json.loads(escaped) == json.loads(document)


def test_json_text_escapes_del_in_otherwise_ascii_text() -> None:
    assert escape_json_text('{"r": "a\x7fb"}') == '{"r": "a\\u007fb"}'
    assert escape_json_text('{"r": "plain"}') == '{"r": "plain"}'
