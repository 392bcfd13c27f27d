"""The loopback API servers the HTTP providers' tests build their fakes on: `api` for
the team's provider, `api2` for a second provider beside it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from tests.ci_support import loopback_server


@pytest.fixture
def api() -> Iterator[HTTPServer]:
    yield from loopback_server()


@pytest.fixture
def api2() -> Iterator[HTTPServer]:
    yield from loopback_server()
