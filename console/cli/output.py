"""How headless commands write tables and JSON, the same way in every command.

Tables are for people: cells are neutralised (console.domain.inert) so backend text cannot
drive the terminal, and they are rendered with Rich only when stdout is a terminal.
JSON is for scripts: stable keys, UTC timestamps, one document per command, with
control and invisible characters written as `\\u` escapes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Generic, TextIO, TypeVar

from console.domain.inert import escape_json_text, neutralise
from console.domain.instants import iso_utc

T = TypeVar("T")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# The standard library's C encoder, as `json.dumps` uses it for a document on one line.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=_default)
# How many items of a `Streamed` array are made and encoded at a time: few enough that
# their objects and text reuse the same memory, many enough that each write is large.
BATCH = 256


class Streamed(Generic[T]):
    """An array of a document's top level, each item made into its JSON value as it is
    written (`as_json`). Thousands of proposals' objects and the text of all of them
    are then never held at once: a listing that built them first touched tens of MB
    of fresh memory, which cost it more than encoding them."""

    def __init__(self, items: Sequence[T], as_json: Callable[[T], object]) -> None:
        self.items = items
        self.as_json = as_json

    def values(self) -> list[object]:
        return [self.as_json(item) for item in self.items]

    def batches(self) -> Iterator[list[object]]:
        for start in range(0, len(self.items), BATCH):
            yield [self.as_json(item) for item in self.items[start : start + BATCH]]


def print_json(document: Any, out: TextIO | None = None) -> None:
    """One JSON document; C1 controls and invisible characters escaped, so a consumer
    that prints the text (or greps it) gets no terminal escape from backend data.

    Indented for a person at a terminal; on one line for a pipe or a file, where it is
    written by the standard library's C encoder (indenting makes `json` encode in Python,
    about ten times slower: seconds for 10,000 proposals). On one line, a `Streamed`
    array at the top level is written in batches as its items are made, the same text
    `json.dumps` gives for the whole document; else the document is one write.
    """
    out = out or sys.stdout
    if out.isatty():
        if isinstance(document, dict):
            document = {
                key: value.values() if isinstance(value, Streamed) else value
                for key, value in document.items()
            }
        text = json.dumps(document, indent=2, default=_default, ensure_ascii=False)
        out.write(escape_json_text(text) + "\n")
        return
    if not isinstance(document, dict) or not any(
        isinstance(value, Streamed) for value in document.values()
    ):
        out.write(escape_json_text(_ENCODER.encode(document)) + "\n")
        return
    encode = _ENCODER.encode
    for index, (key, value) in enumerate(document.items()):
        head = ("{" if index == 0 else ", ") + encode(key) + ": "
        if not isinstance(value, Streamed):
            out.write(escape_json_text(head + encode(value)))
            continue
        out.write(escape_json_text(head) + "[")
        sep = ""
        for batch in value.batches():
            # "[a, b]" from the encoder: its items, joined as the whole array joins them.
            out.write(sep + escape_json_text(encode(batch)[1:-1]))
            sep = ", "
        out.write("]")
    out.write("}\n")


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], out: TextIO | None = None
) -> None:
    """Aligned columns; every cell neutralised, whatever its origin."""
    out = out or sys.stdout
    cells = [[neutralise("" if c is None else str(c)) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    line = "  ".join(h.upper().ljust(widths[i]) for i, h in enumerate(headers)).rstrip()
    out.write(line + "\n")
    for row in cells:
        out.write("  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip() + "\n")
