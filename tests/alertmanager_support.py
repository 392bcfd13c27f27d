"""A real Alertmanager (Debian's `prometheus-alertmanager`) on a loopback port, for the
tests of the alertmanager provider. Never faked: without the binary the tests fail and
say how to install it (`.ci/run` does)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

BINARIES = ("alertmanager", "prometheus-alertmanager")
# Not a timing assertion: only keeps a broken server from hanging the run (an alert a
# Prometheus rule fires takes about 7 s to arrive; a posted one a few milliseconds).
PATIENCE = 90.0
CONFIG = """\
route:
  receiver: quorum-tests
  group_wait: 1s
receivers:
  - name: quorum-tests
"""


def find_binary(names: tuple[str, ...] = BINARIES, package: str = "prometheus-alertmanager") -> str:
    for name in names:
        found = shutil.which(name) or (
            f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None
        )
        if found:
            return found
    pytest.fail(
        f"{' or '.join(names)} is not installed (not on PATH nor in /usr/bin): "
        f"apt-get install {package}"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Until the server at `url` says it is ready; a crash fails at once with its log."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args[0]} exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    pytest.fail(f"{process.args[0]} never became ready: {log.read_text()}")


class Alertmanager:
    """One running Alertmanager and the calls the tests make to it directly."""

    def __init__(self, url: str) -> None:
        self.url = url

    def fire(self, name: str, severity: str = "critical", summary: str = "", **labels: str) -> str:
        """Posts one firing alert; returns its fingerprint once Alertmanager lists it."""
        now = datetime.now(UTC)
        body = [
            {
                "labels": {"alertname": name, "severity": severity, **labels},
                "annotations": {"summary": summary} if summary else {},
                "startsAt": now.isoformat(),
                "endsAt": (now + timedelta(hours=1)).isoformat(),
            }
        ]
        httpx.post(f"{self.url}/api/v2/alerts", json=body, timeout=5).raise_for_status()
        return self.alert(name, **labels)["fingerprint"]

    def alerts(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.url}/api/v2/alerts", timeout=5).json()

    def alert(self, name: str, **labels: str) -> dict[str, Any]:
        """The alert with this name and labels, as Alertmanager lists it (waits for it:
        a posted alert is listed once Alertmanager has taken it in)."""
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            for alert in self.alerts():
                have = alert["labels"]
                if have.get("alertname") == name and all(
                    have.get(k) == v for k, v in labels.items()
                ):
                    return alert
            time.sleep(0.05)
        raise AssertionError(f"Alertmanager never listed {name} {labels}")

    def silences(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.url}/api/v2/silences", timeout=5).json()

    def silence(self, silence_id: str) -> dict[str, Any]:
        return httpx.get(f"{self.url}/api/v2/silence/{silence_id}", timeout=5).json()


@pytest.fixture(scope="session", name="alertmanager")
def alertmanager_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alertmanager]:
    binary = find_binary()
    home = tmp_path_factory.mktemp("alertmanager")
    (home / "alertmanager.yml").write_text(CONFIG)
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={home / 'alertmanager.yml'}",
            f"--storage.path={home / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(home / "alertmanager.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(process, url, home / "alertmanager.log")
        yield Alertmanager(url)
    finally:
        process.terminate()
        process.wait(timeout=10)
