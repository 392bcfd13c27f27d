"""Where each key of a TOML document was written, so config problems can name a line.

`tomllib` returns plain dicts with no positions. This scanner walks the raw text of
a document that `tomllib` already accepted and records the line of every table
header and every key, under the same path the parsed data uses: `[[providers]]`
blocks are numbered by occurrence (`("providers", 1, "kind")`), arrays of inline
tables by element, dotted keys split into their parts. It is lenient on purpose:
the syntax was checked by `tomllib`, this only needs to follow it.
"""

from __future__ import annotations

import bisect
import re
import tomllib

KeyPath = tuple[str | int, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SPACE = " \t\r"


class LineIndex:
    """Line numbers (1-based) of the headers and keys of one TOML document."""

    def __init__(self, text: str):
        self._text = text
        self._pos = 0
        self._starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        self._lines: dict[KeyPath, int] = {}
        self._arrays: dict[KeyPath, int] = {}
        self._scan()

    def line(self, path: KeyPath) -> int | None:
        """The line of `path`, else of its nearest recorded ancestor; None if none is."""
        for end in range(len(path), 0, -1):
            found = self._lines.get(path[:end])
            if found is not None:
                return found
        return None

    # -- scanning -----------------------------------------------------------------

    def _scan(self) -> None:
        table: KeyPath = ()
        while True:
            self._skip(newlines=True)
            if self._pos >= len(self._text):
                return
            start = self._pos
            if self._text.startswith("[[", self._pos):
                table = self._header(array=True)
            elif self._peek() == "[":
                table = self._header(array=False)
            else:
                self._keyval(table)
            self._advance_from(start)

    def _header(self, array: bool) -> KeyPath:
        line = self._line_here()
        self._pos += 2 if array else 1
        parts = self._key()
        self._pos += 2 if array else 1
        resolved: KeyPath = ()
        for i, part in enumerate(parts):
            resolved = (*resolved, part)
            self._record(resolved, line)
            last = i == len(parts) - 1
            if last and array:
                count = self._arrays.get(resolved, 0)
                self._arrays[resolved] = count + 1
                resolved = (*resolved, count)
            elif resolved in self._arrays:
                resolved = (*resolved, self._arrays[resolved] - 1)
        self._record(resolved, line)
        return resolved

    def _keyval(self, base: KeyPath) -> None:
        line = self._line_here()
        parts = self._key()
        for end in range(1, len(parts) + 1):
            self._record((*base, *parts[:end]), line)
        self._skip()
        if self._peek() == "=":
            self._pos += 1
        self._skip()
        self._value((*base, *parts))

    def _key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self._skip()
            ch = self._peek()
            if ch in ("'", '"'):
                start = self._pos
                self._string()
                parts.append(tomllib.loads("k = " + self._text[start : self._pos])["k"])
            else:
                match = _BARE.match(self._text, self._pos)
                if not match:
                    return parts
                parts.append(match.group(0))
                self._pos = match.end()
            self._skip()
            if self._peek() != ".":
                return parts
            self._pos += 1

    def _value(self, path: KeyPath) -> None:
        ch = self._peek()
        if ch in ("'", '"'):
            self._string()
        elif ch == "[":
            self._array(path)
        elif ch == "{":
            self._inline_table(path)
        else:
            while self._pos < len(self._text) and self._text[self._pos] not in ",]}\n#":
                self._pos += 1

    def _array(self, path: KeyPath) -> None:
        self._pos += 1
        index = 0
        while self._pos < len(self._text):
            self._skip(newlines=True)
            if self._peek() == "]":
                self._pos += 1
                return
            start = self._pos
            self._record((*path, index), self._line_here())
            self._value((*path, index))
            self._skip(newlines=True)
            if self._peek() == ",":
                self._pos += 1
                index += 1
            self._advance_from(start)

    def _inline_table(self, path: KeyPath) -> None:
        self._pos += 1
        while self._pos < len(self._text):
            self._skip()
            if self._peek() == "}":
                self._pos += 1
                return
            start = self._pos
            self._keyval(path)
            self._skip()
            if self._peek() == ",":
                self._pos += 1
            self._advance_from(start)

    def _string(self) -> None:
        text = self._text
        quote = text[self._pos]
        basic = quote == '"'
        delimiter = quote * 3 if text.startswith(quote * 3, self._pos) else quote
        self._pos += len(delimiter)
        while self._pos < len(text):
            if basic and text[self._pos] == "\\":
                self._pos += 2
                continue
            if text.startswith(delimiter, self._pos):
                self._pos += len(delimiter)
                # A multi-line string may end with up to two quotes of its content.
                extra = 0
                while len(delimiter) == 3 and extra < 2 and self._peek() == quote:
                    self._pos += 1
                    extra += 1
                return
            self._pos += 1

    def _skip(self, newlines: bool = False) -> None:
        """Skips blanks and comments (and line ends when `newlines`)."""
        text = self._text
        while self._pos < len(text):
            ch = text[self._pos]
            if ch in _SPACE or (newlines and ch == "\n"):
                self._pos += 1
            elif ch == "#":
                end = text.find("\n", self._pos)
                self._pos = len(text) if end < 0 else end
            else:
                return

    def _advance_from(self, start: int) -> None:
        """Never loops on text this scanner does not follow: it steps over one character."""
        if self._pos == start:
            self._pos += 1

    def _peek(self) -> str:
        return self._text[self._pos] if self._pos < len(self._text) else ""

    def _line_here(self) -> int:
        return bisect.bisect_right(self._starts, self._pos)

    def _record(self, path: KeyPath, line: int) -> None:
        self._lines.setdefault(path, line)
