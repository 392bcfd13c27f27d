"""Reading the small text files a person names: a config, an allowed-signers list, a
certificate handed in to verify.

A path may name something that never ends (a FIFO with no writer, /dev/zero, a log
file by mistake); it is refused in one line instead of being read forever, and a
huge file is refused before it fills the memory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

MAX_BYTES = 1 << 20


class Unreadable(Exception):
    """Why the file cannot be taken, in a few words (`not a regular file`)."""


def read_small_text(path: Path, limit: int = MAX_BYTES) -> str:
    """The UTF-8 text of the regular file at `path`, at most `limit` bytes."""
    try:
        with open(path, "rb", opener=_nonblocking) as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise Unreadable("not a regular file")
            return read_small_stream(file, limit)
    except FileNotFoundError:
        raise Unreadable("no such file") from None
    except OSError as exc:
        raise Unreadable(f"cannot read: {exc.strerror}") from None


def read_small_stream(stream: BinaryIO, limit: int = MAX_BYTES) -> str:
    """At most `limit` bytes of UTF-8 text from an open stream (stdin included)."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise Unreadable(f"larger than {_size(limit)}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable("not UTF-8 text") from None


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit} bytes"


def _nonblocking(path: str, flags: int) -> int:
    """Opening a FIFO for reading waits for a writer; O_NONBLOCK returns at once."""
    return os.open(path, flags | os.O_NONBLOCK)
