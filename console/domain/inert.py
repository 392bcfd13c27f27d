"""Makes text that came from a backend safe to show.

A log line, a pod name or an error message is data, never instructions to the
terminal or to Rich: escape sequences (CSI, OSC, DCS...) and other control
characters are replaced by visible stand-ins, and Rich markup is escaped, so a
line cannot retitle the terminal, move the cursor, write the clipboard (OSC 52)
or fake a piece of the UI.
"""

from __future__ import annotations

import re

from rich.markup import escape

# ESC-introduced sequences: CSI (ESC [ ... final), OSC/DCS/SOS/PM/APC (ESC ] ... BEL or ST),
# and two-byte escapes. Their 8-bit C1 forms are matched too.
_SEQUENCE = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?            # CSI
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])     # OSC, DCS, SOS, PM, APC ...
      .*?(?:\x07|\x1b\\|\x9c|$)                   # ... up to BEL or ST (or end of text)
    | \x1b[ -/]*[0-~]?                            # other escapes
    """,
    re.VERBOSE | re.DOTALL,
)
# C0 controls but tab, DEL, and the C1 range.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    return "".join(_picture(ch) for ch in match.group(0))


def _picture(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # U+2400 block: ␛ for ESC, ␇ for BEL ...
    if code == 0x7F:
        return "\u2421"
    if 0x80 <= code <= 0x9F:
        return f"\\x{code:02x}"
    return ch


def neutralise(text: str) -> str:
    """`text` with every escape sequence and control character made visible and harmless."""
    text = _SEQUENCE.sub(_visible, text)
    return _CONTROL.sub(_visible, text)


def inert_markup(text: str) -> str:
    """`text` ready to embed in Rich markup: neutralised, then markup-escaped."""
    return escape(neutralise(text))
