"""Errors the command line turns into one line on stderr and an exit code."""

from __future__ import annotations

from console.domain import exitcodes


class QuorumError(Exception):
    exit_code = exitcodes.FAILURE


class UsageError(QuorumError):
    exit_code = exitcodes.USAGE


class PolicyRefused(QuorumError):
    exit_code = exitcodes.REFUSED
