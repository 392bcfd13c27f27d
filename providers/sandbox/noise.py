"""Stable pseudo-randomness: the same inputs give the same numbers in every process.

Python's `hash()` of a string changes per process, and the sandbox must agree with
itself across processes without sharing anything but the clock, so every choice is
a pure function of a stable key (blake2b of the parts) mixed with an integer.
"""

from __future__ import annotations

import hashlib
import math

_MASK = (1 << 64) - 1
_ALNUM = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes uses for name suffixes


def key(*parts: object) -> int:
    """A 64-bit key for a tuple of names and numbers."""
    data = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def mix(x: int) -> int:
    """splitmix64's finaliser: cheap enough to call once per log line."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def unit(x: int) -> float:
    """A 64-bit number as a float in [0, 1)."""
    return (x >> 11) * (1.0 / (1 << 53))


def smooth(k: int, t: float, period: float) -> float:
    """Value noise in [-1, 1] that drifts smoothly over `period` seconds."""
    x = t / period
    i = math.floor(x)
    f = x - i
    a = unit(mix((k + i) & _MASK)) * 2 - 1
    b = unit(mix((k + i + 1) & _MASK)) * 2 - 1
    return a + (b - a) * (f * f * (3 - 2 * f))


def hexdigits(k: int, n: int) -> str:
    return hashlib.blake2b(str(k).encode(), digest_size=(n + 1) // 2).hexdigest()[:n]


def alnum(k: int, n: int) -> str:
    out = []
    for _ in range(n):
        k = mix(k)
        out.append(_ALNUM[k % len(_ALNUM)])
    return "".join(out)
