"""Where an HTTP provider's token comes from: an environment variable or a command.

Never from the config text (the config loader refuses it there). The command runs
without a shell, with a timeout; its output is kept until the server refuses it, then
read once more, so a token rotated behind a running console (`gh auth refresh`, a
vault lease) is picked up without a restart. None of the errors below repeats the
token or the command's output, which may hold it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess

from providers.base import AuthError
from providers.http.settings import HttpSettings


class TokenSource:
    """The token of one provider block, resolved on first use and then kept."""

    def __init__(self, settings: HttpSettings) -> None:
        self.settings = settings
        self._token: str | None = None
        self._spent: set[str] = set()  # refused earlier: still scrubbed from messages
        self._lock = asyncio.Lock()

    @property
    def origin(self) -> str:
        """Where the token comes from, for messages: `$GITHUB_TOKEN` or `` `gh auth token` ``."""
        if self.settings.token_command:
            return f"`{' '.join(self.settings.token_command)}`"
        if self.settings.token_env:
            return f"${self.settings.token_env}"
        return "no token source"

    async def get(self) -> str | None:
        """The token; None when the block names no source (an anonymous client)."""
        async with self._lock:
            if self._token is None:
                if self.settings.token_command:
                    self._token = await asyncio.to_thread(self._run)
                elif self.settings.token_env:
                    self._token = self._read_env(self.settings.token_env)
            return self._token

    async def renew(self, refused: str | None) -> str | None:
        """After a 401 with `refused`: a different token to try once, or None.

        Requests that were refused together share one renewal (the first one runs the
        command; the others find the new token already there). An environment
        variable cannot change under a running process, so it is not asked again.
        """
        async with self._lock:
            if self._token != refused:
                return self._token
            if not self.settings.token_command or refused is None:
                return None
            fresh = await asyncio.to_thread(self._run)
            if fresh == refused:
                return None
            self._spent.add(refused)
            self._token = fresh
            return fresh

    @staticmethod
    def _read_env(name: str) -> str:
        value = os.environ.get(name, "").strip()
        if not value:
            raise AuthError(f"${name} is not set or empty")
        return value

    def _run(self) -> str:
        words = list(self.settings.token_command)
        try:
            done = subprocess.run(  # a configured command, without a shell
                words,
                capture_output=True,
                text=True,
                timeout=self.settings.token_timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise AuthError(f"token command {words[0]!r} not found") from None
        except subprocess.TimeoutExpired:
            raise AuthError(
                f"token command {self.origin} gave no answer in {self.settings.token_timeout:g}s"
            ) from None
        except OSError as exc:
            raise AuthError(
                f"token command {self.origin} failed to start: {exc.strerror}"
            ) from None
        token = done.stdout.strip()
        if done.returncode != 0:
            raise AuthError(f"token command {self.origin} exited with status {done.returncode}")
        if not token or "\n" in token:
            raise AuthError(f"token command {self.origin} printed no single-line token")
        return token

    def scrub(self, text: str) -> str:
        """`text` with the token replaced, for messages built from a backend's answer."""
        for token in (self._token, *self._spent):
            if token and token in text:
                text = text.replace(token, "[token]")
        return text
