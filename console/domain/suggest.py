"""How a name nobody knows is answered: the nearest known one, and what exists.

A person who types `--env prod` or a misspelt service at 3 a.m. needs the right
name, not a puzzle: "did you mean" when one is close, and the whole list when it
is short enough to read (else its start and how many more).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

LIST_LIMIT = 12  # names shown in full; a longer list shows its first ones and a count


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The known name closest to `word`, if one is close enough to be what was meant.

    A choice that starts with `word` (`prod` for `production`) counts as close even
    where difflib's ratio would not, since abbreviating is the commonest slip.
    """
    names = sorted(set(choices))
    starting = [name for name in names if word and name.startswith(word)]
    if len(starting) == 1:
        return starting[0]
    found = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return found[0] if found else None


def listing(names: Iterable[str], limit: int = LIST_LIMIT) -> str:
    """`a, b, c` for a short list; the first `limit - 1` and `…and N more` beyond `limit`."""
    ordered = sorted(set(names))
    if len(ordered) <= limit:
        return ", ".join(ordered)
    shown = ordered[: limit - 1]
    return f"{', '.join(shown)} …and {len(ordered) - len(shown)} more"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`; did you mean 'x'?` or nothing, to append to an error line."""
    near = nearest(word, choices)
    return f"; did you mean {near!r}?" if near else ""
