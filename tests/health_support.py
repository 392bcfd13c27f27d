"""Real local servers for the health provider's tests: pytest-httpserver for the
endpoints, and a TCP server that answers bytes that are not HTTP."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

from pytest_httpserver import HTTPServer


def threaded_server() -> Iterator[HTTPServer]:
    """A loopback server answering each connection in a thread, so a slow handler
    holds only its own request."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


def exposition(ok: int, errors: int, buckets: dict[str, int]) -> str:
    """A /metrics page: requests by code and a latency histogram in seconds."""
    lines = [
        "# HELP http_requests_total Requests served.",
        "# TYPE http_requests_total counter",
        f'http_requests_total{{code="200",path="/"}} {ok}',
        f'http_requests_total{{code="500",path="/"}} {errors}',
        "# HELP http_request_duration_seconds Request latency.",
        "# TYPE http_request_duration_seconds histogram",
    ]
    lines += [f'http_request_duration_seconds_bucket{{le="{le}"}} {n}' for le, n in buckets.items()]
    total = max(buckets.values())
    lines += [f"http_request_duration_seconds_count {total}", "http_request_duration_seconds_sum 1"]
    return "\n".join(lines) + "\n"


class GarbageServer:
    """Accepts connections and answers each with bytes that are no HTTP response."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.recv(4096)
                    conn.sendall(b"\x00\xffSSH-2.0-not-http\r\n\x1b]0;owned\x07\r\n\r\n")
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()
