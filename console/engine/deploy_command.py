"""Runs a team's own deploy command, the interop path with existing scripts.

Teams that already deploy with a script (`./scripts/deploy.sh full production`)
keep it: Quorum runs it once the policy allows the deploy, with
`COLLECTIVE_CONSENSUS=true` and the proposal's particulars in its environment, and
streams its output line by line to whoever shows it (the log pane, the terminal).
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from console.domain.inert import echo

OnOutput = Callable[[str], None]
_LINE_LIMIT = 1 << 20  # one output line may be long (a JSON blob); 64 KiB is asyncio's default


class DeployCommandError(Exception):
    """The command could not be started at all (missing file, not executable)."""


def command_problem(command: str) -> str | None:
    """Why `command` could not start from the current directory, or None when it could.

    Asked by `quorum config check` and before a deploy is proposed, so a missing script
    is found before the votes, not after them.
    """
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        return f"cannot be split into words: {exc}"
    if not argv:
        return "is empty"
    program = argv[0]
    if _may_be_secret(program):  # named by its place in the config, never repeated
        program, hidden = "the program it names", " (not repeated here: it may be a secret)"
    else:
        hidden = ""
    if "/" not in argv[0]:
        found = shutil.which(argv[0])
        return None if found else f"{program} is not on $PATH{hidden}"
    path = Path(argv[0]).expanduser()
    where = "" if path.is_absolute() else f" (from {Path.cwd()})"
    if not path.is_file():
        return f"{program} does not exist{hidden}{where}"
    if not os.access(path, os.X_OK):
        fix = "" if hidden else f"; run `chmod +x {program}`"
        return f"{program} is not executable{hidden}{where}{fix}"
    return None


def _may_be_secret(program: str) -> bool:
    """A URL with a token or a long token-like name pasted where the program goes."""
    return "://" in program or any(echo(part) is None for part in program.split("/") if part)


def consensus_environment(
    *,
    proposal_id: int | None,
    service: str,
    environment: str,
    revision: str,
    override: bool,
    certificate: Path | None = None,
) -> dict[str, str]:
    """The variables the command finds; scripts test `COLLECTIVE_CONSENSUS` before acting,
    and can prove it with `quorum certificate verify "$QUORUM_CERTIFICATE"`."""
    env = {
        "COLLECTIVE_CONSENSUS": "true",
        "QUORUM_PROPOSAL_ID": "" if proposal_id is None else str(proposal_id),
        "QUORUM_SERVICE": service,
        "QUORUM_ENVIRONMENT": environment,
        "QUORUM_REVISION": revision,
    }
    if override:
        env["QUORUM_OVERRIDE"] = "true"
    if certificate is not None:
        env["QUORUM_CERTIFICATE"] = str(certificate)
    return env


async def run_deploy_command(
    command: str, extra_env: Mapping[str, str], on_output: OnOutput
) -> int:
    """Runs `command` (split like a shell would, not through one) and returns its exit code.

    stdout and stderr arrive interleaved, as the operator would see them in a
    terminal; each line goes to `on_output` without its newline as soon as it is read.
    The command runs in the current directory, where an operator running
    `./scripts/...` by hand would run it.
    """
    argv = shlex.split(command)
    if not argv:
        raise DeployCommandError("deploy_command is empty")
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, **extra_env},
            limit=_LINE_LIMIT,
        )
    except OSError as exc:
        raise DeployCommandError(f"deploy command {argv[0]!r}: {exc.strerror}") from None
    assert proc.stdout is not None  # PIPE was asked for
    async for raw in proc.stdout:
        on_output(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
    return await proc.wait()
