"""The fake TikTok the TikTok tests share: one server per test module (stopping one takes half
a second), emptied for each test, and a fake clock shared with the client's sleep."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.net import running_server
from tests.fakes.server import FakeServer
from tests.fakes.tiktok import FakeClock, FakeTikTok


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def _server() -> Iterator[FakeServer]:
    with running_server() as s:
        yield s


@pytest.fixture
def server(_server: FakeServer) -> FakeServer:
    """One server for the module (stopping one takes half a second), emptied for each test."""
    with _server._lock:
        _server.routes.clear()
        _server.requests.clear()
    return _server


@pytest.fixture
def tiktok(server: FakeServer, clock: FakeClock) -> FakeTikTok:
    return FakeTikTok(server, clock=clock, processing_polls=2)
