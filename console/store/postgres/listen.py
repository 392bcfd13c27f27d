"""How a console hears of the ledger's changes: LISTEN on `quorum_ledger`, no polling.

The server's functions `pg_notify` on every act, claim and audit record, in the
transaction that writes it (`console.store.postgres.schema`), so a listener learns of a
change once it is committed and readable. `LedgerWatch` keeps one connection of its own
waiting on that channel in a thread: while nothing happens it sends nothing (the
socket is read, no query is made), and each notice moves `generation`, which readers
compare with the one they last read at instead of asking the tables.

The same connection is how the console knows the ledger is out of reach: the server
ends it when it stops, a cut network ends it through TCP keepalives. Then `error` says
why, the watch tries to connect again every `RETRY_S`, and once back it moves the
generation (whatever happened meanwhile is read again) and clears `error`. A console
that started while the server was out of reach starts the watch stale (`error`), and
each connection asks the server once who it authenticated (`user`): the console's
identity, never guessed before the server answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from console.domain.errors import QuorumError
from console.domain.settings import LedgerConfig
from console.store.postgres.connect import connect, first_line

CHANNEL = "quorum_ledger"
RETRY_S = 1.0  # between attempts to reach a server that went away
WAKE_S = 0.5  # how often the waiting thread looks whether it was asked to stop
# libpq's keepalives: a peer gone without closing (a cut cable) is found within ~20 s.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
              "keepalives_count": 2}  # fmt: skip


class LedgerWatch:
    """Listens for the ledger's changes in a thread; `on_change` is called from that
    thread after each notice and each change of reachability (stale or back)."""

    def __init__(
        self, ledger: LedgerConfig, on_change: Callable[[], None], error: str | None = None
    ) -> None:
        """`error`: why the ledger was out of reach when the console started, if it was."""
        self.ledger = ledger
        self.on_change = on_change
        self.generation = 0
        # Why the ledger is out of reach (the server's or libpq's line), None while it is not.
        self.error: str | None = error
        self.user: str | None = None  # the role the server authenticated, once connected
        self.on_lost: Callable[[], None] = lambda: None  # the stores drop their connections
        # Told the role before `error` clears, so no change is let through by a console
        # that does not know yet who makes it.
        self.on_reached: Callable[[str], None] = lambda user: None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ledger-watch", daemon=True)

    @property
    def stale(self) -> bool:
        return self.error is not None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except QuorumError as exc:  # could not connect: LedgerUnreachable's one line
                self._lost(str(exc).removeprefix(f"ledger {self.ledger.where}: "))
            except Exception as exc:  # the connection broke while waiting
                self._lost(first_line(exc))
            self._stop.wait(RETRY_S)

    def _listen(self) -> None:
        conn = connect(self.ledger, autocommit=True, options=KEEPALIVES)
        try:
            conn.execute(f"LISTEN {CHANNEL}")
            row = conn.execute("SELECT session_user").fetchone()
            self.user = str(row[0]) if row else None
            if self.user:
                self.on_reached(self.user)
            # Listening from here: what was written while away is read again now.
            self.generation += 1
            self.error = None
            self.on_change()
            while not self._stop.is_set():
                # Back at the first notice (a burst is read by the one read it causes).
                heard = list(conn.notifies(timeout=WAKE_S, stop_after=1))
                if heard:
                    self.generation += 1
                    self.on_change()
        finally:
            conn.close()

    def _lost(self, error: str) -> None:
        if self._stop.is_set():
            return
        first, said = self.error is None, self.error
        self.error = error
        if first:
            self.on_lost()
        if error != said:  # the latest reason is the one shown
            self.on_change()
