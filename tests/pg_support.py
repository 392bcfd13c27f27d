"""A real PostgreSQL 15 server for the ledger's tests, started once per test session.

`initdb` in a temporary directory, the server on a free loopback port, with the team
the ledger's tests need: an owner role (owns the `quorum` database and, after
`quorum ledger init`, every table in it), the group role `quorum_member`, its
members alice, bob and carol, and mallory, who may log in but is no member.

Every role but the superuser logs in over TCP with a password (scram-sha-256): a
test connected as alice is alice to the server, as a member's psql would be. The
superuser connects only through the server's socket (trust), for setting up.

initdb refuses to run as root, so under root the server runs as the `postgres`
account the Debian package creates, in a directory that account owns.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

BIN = Path("/usr/lib/postgresql/15/bin")
OWNER = "quorum_owner"
MEMBER_ROLE = "quorum_member"
MEMBERS = ("alice", "bob", "carol")
OUTSIDER = "mallory"
DATABASE = "quorum"


def binary(name: str) -> str:
    """A PostgreSQL 15 program: Debian's versioned directory first, else the PATH."""
    found = BIN / name
    if found.exists():
        return str(found)
    on_path = shutil.which(name)
    if on_path is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")
    return on_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """One running server; `conninfo(role)` is what a member would put in `[ledger] url`
    plus the password libpq would take from ~/.pgpass."""

    root: Path
    port: int
    passwords: dict[str, str] = field(default_factory=dict)
    account: str | None = None  # the OS account the server runs as, under root

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        """The ledger URL of the config: no password (libpq finds it elsewhere)."""
        return f"postgresql://127.0.0.1:{self.port}/{DATABASE}"

    def conninfo(self, role: str, database: str = DATABASE) -> str:
        return (
            f"host=127.0.0.1 port={self.port} dbname={database} user={role} "
            f"password={self.passwords[role]} connect_timeout=10"
        )

    def env(self, role: str) -> dict[str, str]:
        """The environment a command run as `role` gets (libpq's own variables)."""
        return {"PGUSER": role, "PGPASSWORD": self.passwords[role]}

    def _as_server(self, argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        if self.account:
            argv = ["runuser", "-u", self.account, "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Runs `sql` as the superuser, through the socket; raises with psql's error."""
        done = self._as_server(
            [
                binary("psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.root),
                "-p",
                str(self.port),
                "-d",
                database,
                "-At",
                "-c",
                sql,
            ],
            timeout=60,
        )
        if done.returncode:
            raise RuntimeError(done.stderr)
        return done.stdout

    def start(self) -> None:
        done = self._as_server(
            [
                binary("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.root / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            timeout=90,
        )
        if done.returncode:
            log = (self.root / "server.log").read_text(errors="replace")
            raise RuntimeError(f"postgres did not start: {done.stderr}\n{log[-2000:]}")

    def stop(self) -> None:
        self._as_server(
            [binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"], timeout=90
        )


_CONF = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{root}'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
"""

_HBA = """
local all all trust
host all all 127.0.0.1/32 scram-sha-256
"""


def start_server() -> PgServer:
    """A new server with the team's roles; the caller stops it (`stop_server`)."""
    account = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="quorum-pg-", dir="/tmp"))
    if account:
        entry = pwd.getpwnam(account)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    server = PgServer(root, _free_port(), account=account)
    done = server._as_server(
        [
            binary("initdb"),
            "-D",
            str(server.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        timeout=120,
    )
    if done.returncode:
        raise RuntimeError(f"initdb failed: {done.stderr}")
    with (server.data / "postgresql.conf").open("a") as conf:
        conf.write(_CONF.format(port=server.port, root=root))
    (server.data / "pg_hba.conf").write_text(_HBA)
    server.start()
    statements = [f"CREATE ROLE {MEMBER_ROLE} NOLOGIN"]
    for role in (OWNER, *MEMBERS, OUTSIDER):
        server.passwords[role] = secrets.token_hex(16)
        statements.append(f"CREATE ROLE {role} LOGIN PASSWORD '{server.passwords[role]}'")
    statements += [f"GRANT {MEMBER_ROLE} TO {role}" for role in MEMBERS]
    statements.append(f"CREATE DATABASE {DATABASE} OWNER {OWNER}")
    for statement in statements:
        server.psql(statement)
    return server


def stop_server(server: PgServer) -> None:
    server.stop()
    with contextlib.suppress(OSError):
        shutil.rmtree(server.root)


def fresh_database(server: PgServer, name: str) -> str:
    """An empty database owned by the owner role, for a test that needs its own ledger."""
    server.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    server.psql(f"CREATE DATABASE {name} OWNER {OWNER}")
    return name


@contextlib.contextmanager
def running() -> Iterator[PgServer]:
    server = start_server()
    try:
        yield server
    finally:
        stop_server(server)


def initialised(server: PgServer, name: str, members: tuple[str, ...] = MEMBERS) -> str:
    """A fresh database `name` set up by the owner with `quorum ledger init`'s own code,
    for a team of `members`; returns the database's name."""
    import psycopg

    from console.domain.settings import Config, LedgerConfig
    from console.store.postgres.setup import init

    fresh_database(server, name)
    ledger = LedgerConfig(url=f"postgresql://127.0.0.1:{server.port}/{name}")
    with psycopg.connect(server.conninfo(OWNER, name)) as conn:
        init(conn, Config(team_name="ops", members=members), ledger)
    return name


def connect_as(server: PgServer, role: str, database: str) -> psycopg.Connection:
    """`role`'s own connection, autocommit, as their psql would be."""
    import psycopg

    return psycopg.connect(server.conninfo(role, database), autocommit=True)


class Ledgers:
    """One audit log of either kind, opened as a given member: the SQLite file (any
    name is taken as given) or a fresh PostgreSQL ledger (the member logs in as their
    role, which the server records as the author). For suites that must hold on both."""

    def __init__(self, folder: Path, server: PgServer | None, name: str) -> None:
        self.folder, self.server = folder, server
        self.database = initialised(server, name) if server is not None else ""

    def log(self, who: str = "alice") -> object:
        """An open log as `who` (`AuditLog` or `PgAuditLog`); the caller closes it."""
        if self.server is None:
            from console.store.audit import AuditLog

            return AuditLog(self.folder / "audit.db")
        from console.domain.settings import LedgerConfig
        from console.store.postgres.audit import PgAuditLog

        for key, value in self.server.env(who).items():
            os.environ[key] = value
        url = f"postgresql://127.0.0.1:{self.server.port}/{self.database}"
        return PgAuditLog(LedgerConfig(url=url))
