"""Fixtures shared by every test that talks to a fake server: loopback only, no internet."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.net import forbid_outside_connections, running_server
from tests.fakes.server import FakeServer


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_outside_connections(monkeypatch)


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    with running_server() as server:
        yield server


@pytest.fixture
def allow_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "127.0.0.1")
