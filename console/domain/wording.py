"""Counted nouns as a person writes them: "1 approval", "2 approvals", never
"2 approval(s)"; one rule for the console and the command line."""

from __future__ import annotations


def plural(word: str, n: int) -> str:
    """`word` for `n` of them (regular English plurals: -s, consonant + y → -ies)."""
    if n == 1:
        return word
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "i", "o", "u"):
        return word[:-1] + "ies"
    return word + "s"


def count(n: int, word: str) -> str:
    """`n` and `word` in agreement: `count(2, "approval")` is "2 approvals"."""
    return f"{n} {plural(word, n)}"
