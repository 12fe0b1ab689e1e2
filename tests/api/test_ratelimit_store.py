"""The rate-limit stores: fixed windows, and a dead Redis that fails fast."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from autoclip_api.core.ratelimit import LimiterUnavailable, MemoryRateLimiter, RedisRateLimiter


def test_memory_window_counts_then_resets() -> None:
    now = [1000.0]
    limiter = MemoryRateLimiter(clock=lambda: now[0])
    hits = [limiter.hit("k", limit=2, window_seconds=60) for _ in range(3)]
    assert [h.allowed for h in hits] == [True, True, False]
    assert hits[-1].reset_after == pytest.approx(60)
    now[0] += 30
    assert limiter.hit("k", limit=2, window_seconds=60).reset_after == pytest.approx(30)
    now[0] += 31
    assert limiter.hit("k", limit=2, window_seconds=60).count == 1
    limiter.reset("k")
    assert limiter.hit("k", limit=2, window_seconds=60).count == 1


def test_redis_window_counts_with_expiry(redis_url: str) -> None:
    limiter = RedisRateLimiter(redis_url)
    hits = [limiter.hit("k", limit=2, window_seconds=60) for _ in range(3)]
    assert [h.count for h in hits] == [1, 2, 3]
    assert not hits[-1].allowed
    assert 59 < hits[-1].reset_after <= 60
    limiter.reset("k")
    assert limiter.hit("k", limit=2, window_seconds=60).count == 1
    limiter.close()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers (a hung Redis)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join(2)
    for conn in accepted:
        conn.close()
    server.close()


def test_hung_redis_fails_within_the_timeout_then_the_breaker_answers_at_once(
    silent_server: int,
) -> None:
    limiter = RedisRateLimiter(
        f"redis://127.0.0.1:{silent_server}/0", timeout_seconds=0.3, breaker_seconds=5
    )
    started = time.monotonic()
    with pytest.raises(LimiterUnavailable):
        limiter.hit("k", limit=5, window_seconds=60)
    assert time.monotonic() - started < 1.5
    started = time.monotonic()
    for _ in range(20):
        with pytest.raises(LimiterUnavailable, match="recently failed"):
            limiter.hit("k", limit=5, window_seconds=60)
    assert time.monotonic() - started < 0.1
    limiter.close()
