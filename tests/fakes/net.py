"""Keeping tests on this machine.

``forbid_outside_connections`` makes any TCP connect to an address outside 127.0.0.0/8
and ::1 fail loudly (so a broken guard can never reach the network); ``running_server``
starts a ``FakeServer`` for the duration of a ``with`` block. Test packages wrap them in
fixtures (see ``tests/ingest/conftest.py``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.fakes.server import FakeServer

_real_create_connection = socket.create_connection


class OutsideConnectionError(AssertionError):
    pass


def _guarded_create_connection(address, *args, **kwargs):  # type: ignore[no-untyped-def]
    host = address[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError as exc:
        raise OutsideConnectionError(f"test tried to connect to a name: {host}") from exc
    if not ip.is_loopback:
        raise OutsideConnectionError(f"test tried to connect outside loopback: {host}")
    return _real_create_connection(address, *args, **kwargs)


def forbid_outside_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "create_connection", _guarded_create_connection)


@contextmanager
def running_server(host: str = "127.0.0.1") -> Iterator[FakeServer]:
    server = FakeServer(host).start()
    try:
        yield server
    finally:
        server.stop()
