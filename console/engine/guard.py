"""The read-only guard: one place decides that a read-only console makes no change.

`--readonly` (the command line's flag, the console's start option) removes every
mutating act. The engine's changes call this before anything else; the command
line's runner calls it before it even opens the session, and the console calls it
before it offers a dialog, so each refuses with the same words and exit code 3.
"""

from __future__ import annotations

from console.domain.errors import PolicyRefused


def refuse_if_readonly(readonly: bool, doing: str) -> None:
    """Refused by policy (exit 3) when `readonly`: "read-only console (--readonly): cannot X"."""
    if readonly:
        raise PolicyRefused(f"read-only console (--readonly): cannot {doing}")
