"""How headless commands write tables and JSON, the same way in every command.

Tables are for people: cells are neutralised (console.domain.inert) so backend text cannot
drive the terminal, and they are rendered with Rich only when stdout is a terminal.
JSON is for scripts: stable keys, UTC timestamps, one document per command, with
control and invisible characters written as `\\u` escapes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

from console.domain.inert import escape_json_text, neutralise
from console.domain.instants import iso_utc


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(document: Any, out: TextIO | None = None) -> None:
    """One JSON document in one write; C1 controls and invisible characters escaped, so
    a consumer that prints the text (or greps it) gets no terminal escape from backend data.

    Indented for a person at a terminal; on one line for a pipe or a file, where it is
    written by the standard library's C encoder (indenting makes `json` encode in Python,
    about ten times slower: seconds for 10,000 proposals).
    """
    out = out or sys.stdout
    indent = 2 if out.isatty() else None
    text = json.dumps(document, indent=indent, default=_default, ensure_ascii=False)
    out.write(escape_json_text(text) + "\n")


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
