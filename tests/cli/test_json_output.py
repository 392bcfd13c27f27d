"""`print_json` writes a document with `Streamed` arrays in batches, as their items are
made: the text must be exactly what `json.dumps` gives for the whole document, escaped,
at any batch size, for a pipe and (indented) for a terminal."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.cli import output
from console.cli.output import Streamed, print_json
from console.domain.inert import escape_json_text

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",))
    | st.sampled_from(["\x1b", "\x7f", "\x9b", "\u202e", "\u200b", "é", '"', "\\"]),
    max_size=12,
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | TEXT
    | st.integers(0, 10**6).map(lambda s: T0 + timedelta(seconds=s))
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _documents() -> st.SearchStrategy[tuple[dict[str, object], dict[str, object]]]:
    """(a document with Streamed arrays, the same document with plain lists)."""

    def split(items: list[tuple[str, list[object], bool]]) -> tuple[dict, dict]:
        streamed = {
            key: Streamed(values, lambda v: {"wrapped": v}) if lazy else values
            for key, values, lazy in items
        }
        plain = {
            key: [{"wrapped": v} for v in values] if lazy else values for key, values, lazy in items
        }
        return streamed, plain

    entry = st.tuples(TEXT, st.lists(VALUES, max_size=9), st.booleans())
    return st.lists(entry, max_size=5, unique_by=lambda e: e[0]).map(split)


@settings(max_examples=300, deadline=None)
@given(_documents(), st.sampled_from([1, 2, 3, 256]))
def test_a_streamed_document_is_the_text_of_the_whole_one(
    documents: tuple[dict[str, object], dict[str, object]], batch: int
) -> None:
    streamed, plain = documents
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(output, "BATCH", batch)
        pipe, terminal = io.StringIO(), Terminal()
        print_json(streamed, pipe)
        print_json(streamed, terminal)
    whole = json.dumps(plain, default=output._default, ensure_ascii=False)
    assert pipe.getvalue() == escape_json_text(whole) + "\n"
    indented = json.dumps(plain, indent=2, default=output._default, ensure_ascii=False)
    assert terminal.getvalue() == escape_json_text(indented) + "\n"


def test_items_are_made_a_batch_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """No more items are made into JSON values than one batch ahead of what is written."""
    monkeypatch.setattr(output, "BATCH", 4)
    made: list[int] = []

    class Pipe(io.StringIO):
        def write(self, text: str) -> int:
            written.append(len(made))
            return super().write(text)

    written: list[int] = []
    print_json({"items": Streamed(list(range(10)), lambda n: made.append(n) or n)}, Pipe())
    assert made == list(range(10))
    assert [n for n in written if n] == [4, 8, 10, 10, 10]
