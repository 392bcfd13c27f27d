"""Makes text that came from a backend safe to show.

A log line, a pod name or an error message is data, never instructions to the
terminal or to Rich: escape sequences (CSI, OSC, DCS...) and other control
characters are replaced by visible stand-ins, and Rich markup is escaped, so a
line cannot retitle the terminal, move the cursor, write the clipboard (OSC 52)
or fake a piece of the UI.

Invisible characters get the same treatment: bidi controls (U+202E turns
`txt.exe` into `exe.txt` on screen), zero-width characters, line and paragraph
separators, the soft hyphen, the byte-order mark and tag characters would let
text read differently from what it is, so each is shown as its code point.
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
# Format characters that change how text reads without being seen: the soft hyphen,
# the Arabic letter mark, zero-width and directional marks, line/paragraph separators,
# bidi embeddings, overrides and isolates, invisible operators, the BOM, interlinear
# annotations and tag characters.
INVISIBLE = (
    "\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\U000e0000-\U000e007f"
)
# C0 controls but tab, DEL, the C1 range, and the invisible characters above.
UNSAFE = f"\\x00-\\x08\\x0a-\\x1f\\x7f-\\x9f{INVISIBLE}"
_CONTROL = re.compile(f"[{UNSAFE}]")


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
    if code > 0xFFFF:
        return f"\\U{code:08x}"
    if code > 0x9F:
        return f"\\u{code:04x}"
    return ch


def neutralise(text: str) -> str:
    """`text` with every escape sequence and control character made visible and harmless."""
    text = _SEQUENCE.sub(_visible, text)
    return _CONTROL.sub(_visible, text)


def inert_markup(text: str) -> str:
    """`text` ready to embed in Rich markup: neutralised, then markup-escaped."""
    return escape(neutralise(text))


# JSON escapes C0 itself, and the layout's newlines must stay as they are.
_JSON_UNSAFE = re.compile(f"[\\x7f-\\x9f{INVISIBLE}]")
_BLANK = re.compile(rf"[\s{UNSAFE}]+")


def has_visible_text(text: str) -> bool:
    """Whether `text` shows anything once blanks, controls and invisible characters go:
    a reason of only `\\u200b` or `\\u2060\\ufeff` says nothing."""
    return bool(_BLANK.sub("", text))


def escape_json_text(document: str) -> str:
    """A JSON text with every control and invisible character written as a `\\u` escape.

    `json.dumps(ensure_ascii=False)` escapes C0 only; DEL, C1 (U+009B is a CSI) and
    bidi controls would reach whoever reads or greps the output. The escapes decode
    to the same strings, so consumers see the data unchanged.

    Text that is ASCII without DEL has none of them, and saying so is a scan at memory
    speed, where the pattern costs ~25 ms over the 6 MB of 10,000 proposals.
    """
    if document.isascii() and "\x7f" not in document:
        return document
    return _JSON_UNSAFE.sub(_json_escape, document)


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


# What a secret tends to look like: a URL or a path with a query, or a long run of
# token characters (API keys, webhook paths, base64).
_SECRET_SHAPE = re.compile(r"://|^www\.|[?&=@]|[A-Za-z0-9_+/-]{20,}")
ECHO_LIMIT = 32


def echo(value: object) -> str | None:
    """`value` quoted for a message when it is short and cannot be a URL or a token;
    None otherwise, so an error never repeats a secret pasted in the wrong place."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > ECHO_LIMIT or _SECRET_SHAPE.search(text):
        return None
    return repr(neutralise(text))
