"""The ledger's files on disk: who may write them, and whether there is room.

On a bastion a team shares one audit file in a group directory. SQLite creates the
database with mode 0644 whatever the umask, and its `-wal` and `-shm` companions
with the database's mode and the creating account as owner, so a second member's
first write fails. Quorum therefore creates the database and both companions
itself before SQLite opens them: group-writable, in the directory's group, where
the directory is group-shared (setgid or group-writable), and private (0600 files,
0700 folder) everywhere else, whatever the umask.

When a file still cannot be written (made by hand, or by an older version), the
error names the file, its owner and mode, and the command that fixes it.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

COMPANIONS = ("", "-wal", "-shm")
# An action records at least two audit records and a claim; below this much free
# space it is refused before it starts, rather than run with no record of its end.
MIN_FREE_BYTES = 1 << 20

_opened: dict[Path, None] = {}  # every ledger file this process opened, in order


def companions(path: Path) -> list[Path]:
    """The database and the two files SQLite's WAL mode keeps beside it."""
    return [path.with_name(path.name + suffix) for suffix in COMPANIONS]


def shared(directory: Path) -> bool:
    """A team directory: setgid or writable by its group."""
    mode = directory.stat().st_mode
    return bool(mode & (stat.S_ISGID | stat.S_IWGRP))


def prepare(path: Path) -> None:
    """Creates the folder and the three files with the modes described above.

    Files that exist are left as they are (their owner decides); a failure here is
    left for SQLite to report, through `explain`.
    """
    _opened[path] = None
    folder = path.parent
    if not folder.exists():
        try:
            folder.mkdir(parents=True)
            folder.chmod(0o700)
        except OSError:
            return
    try:
        group_shared = shared(folder)
        group = folder.stat().st_gid
    except OSError:
        return
    mode = 0o660 if group_shared else 0o600
    for file in companions(path):
        try:
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        except OSError:
            continue  # exists already, or cannot be made: SQLite says which
        try:
            os.fchmod(fd, mode)  # the umask took bits away; the mode is the point
            if group_shared and os.fstat(fd).st_gid != group:
                # Not a member of the directory's group: `blocked` says so on failure.
                with contextlib.suppress(PermissionError):
                    os.fchown(fd, -1, group)
        finally:
            os.close(fd)


@dataclass(frozen=True)
class Blocked:
    """A file or folder this account cannot write, and how to fix it."""

    path: Path
    owner: str
    group: str
    mode: int
    fix: str

    read_only_mount: Path | None = None  # set when the filesystem itself refuses writes

    def __str__(self) -> str:
        if self.read_only_mount is not None:
            return (
                f"{self.path} is on a read-only filesystem, so no account can write it; "
                f"run `mount -o remount,rw {self.read_only_mount}` (as root) or move the "
                "ledger to a writable folder ([audit] path or $QUORUM_DATA_DIR)"
            )
        me = _account(os.getuid())
        who = "root" if self.owner == "root" else f"{self.owner} or root"
        return (
            f"{self.path} is owned by {self.owner}:{self.group} with mode "
            f"{self.mode:04o} and {me} cannot write it; run `{self.fix}` (as {who})"
        )


def blocked(path: Path) -> Blocked | None:
    """The first of the folder and the three files that this account cannot write."""
    folder = path.parent
    for file in (folder, *companions(path)):
        try:
            info = file.stat()
            team = _group(folder.stat().st_gid)
        except OSError:
            continue
        if os.access(file, os.W_OK):
            continue
        owner, group = _account(info.st_uid), _group(info.st_gid)
        mount = _read_only_mount(file)
        if mount is not None:  # no chmod or chgrp can help
            return Blocked(file, owner, group, stat.S_IMODE(info.st_mode), "", mount)
        me = _account(os.getuid())
        if info.st_uid == os.getuid():  # this account's own, made read-only
            modes = ("2770", "660") if shared(folder) else ("700", "600")
            fix = f"chmod {modes[0] if file == folder else modes[1]} {file}"
        elif not shared(folder):  # a private folder: the file should be this account's
            fix = f"chown {me} {file}" if file != folder else f"chmod 2770 {folder}"
        elif file == folder:
            fix = f"chmod 2770 {folder}"
        else:
            fix = f"chgrp {team} {file} && chmod 660 {file}"
        if shared(folder) and team not in _groups_of_me():
            fix += f"`, then `usermod -aG {team} {me}"
        return Blocked(file, owner, group, stat.S_IMODE(info.st_mode), fix)
    return None


def _read_only_mount(path: Path) -> Path | None:
    """The mount point of `path`'s filesystem when it is mounted read-only, else None."""
    try:
        if not os.statvfs(path).f_flag & os.ST_RDONLY:
            return None
        device = path.stat().st_dev
        mount = path
        while mount.parent != mount and mount.parent.stat().st_dev == device:
            mount = mount.parent
    except OSError:
        return None
    return mount


def explain(error: BaseException) -> str:
    """One line for an SQLite error on a ledger file this process opened.

    A file this account cannot write is named with its owner, mode and fix; a file
    SQLite cannot read as a database is named, to be kept as evidence and moved aside.
    """
    for path in reversed(_opened) if denied(error) else ():
        found = blocked(path)
        if found is not None:
            return str(found)
    where = f"{next(reversed(_opened))}: " if _opened else ""
    if isinstance(error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.OperationalError):
        return f"{where}{error}; keep the file as evidence and move it aside to start anew"
    return f"{where}{error}"


def denied(error: BaseException) -> bool:
    """Whether an SQLite error says a file could not be opened or written."""
    text = str(error)
    return any(words in text for words in ("readonly", "unable to open", "permission"))


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged writer may still use on the filesystem holding `path`."""
    folder = path if path.is_dir() else path.parent
    info = os.statvfs(folder)
    return info.f_bavail * info.f_frsize


def _account(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _groups_of_me() -> set[str]:
    return {_group(g) for g in {*os.getgroups(), os.getgid()}}


def sharing_problems(path: Path, members: tuple[str, ...]) -> list[str]:
    """Why members of the team could not write the ledger at `path`, one line each.

    For `quorum config check` on a bastion: each member that is an account here
    needs to write the folder (SQLite creates `-wal` and `-shm` beside the file) and
    every file already there.
    """
    accounts = []
    for name in members:
        try:
            accounts.append(pwd.getpwnam(name))
        except KeyError:
            continue  # not an account on this machine: nothing to check
    if len(accounts) < 2:
        return []
    folder = path.parent
    if not folder.exists():
        return [
            f"{folder} does not exist: the first member to run quorum creates it private "
            f"(0700); create it shared first: `mkdir -p {folder} && chgrp TEAM {folder} "
            f"&& chmod 2770 {folder}`"
        ]
    problems = []
    for file in (folder, *companions(path)):
        try:
            info = file.stat()
        except OSError:
            continue
        need = 0o3 if file == folder else 0o2  # a folder needs write and search
        kept_out = [a.pw_name for a in accounts if not _may(a, info, need)]
        if kept_out:
            problems.append(
                f"{file} ({_account(info.st_uid)}:{_group(info.st_gid)}, mode "
                f"{stat.S_IMODE(info.st_mode):04o}) cannot be written by {', '.join(kept_out)}"
            )
    return problems


def _may(account: pwd.struct_passwd, info: os.stat_result, need: int) -> bool:
    """Whether `account` has the `need` bits (rwx as 0o7) on a file, by its mode."""
    if account.pw_uid == 0:
        return True
    mode = stat.S_IMODE(info.st_mode)
    if account.pw_uid == info.st_uid:
        bits = mode >> 6
    elif info.st_gid in os.getgrouplist(account.pw_name, account.pw_gid):
        bits = mode >> 3
    else:
        bits = mode
    return bits & need == need
