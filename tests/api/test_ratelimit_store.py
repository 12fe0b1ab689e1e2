"""The rate-limit stores: fixed windows, cache versions, and a dead Redis that fails fast."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import redis

from autoclip_api.core.ratelimit import (
    Backoff,
    LimiterUnavailable,
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
)


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


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[RateLimiter]:
    limiter: RateLimiter
    if request.param == "memory":
        limiter = MemoryRateLimiter()
    else:
        limiter = RedisRateLimiter(request.getfixturevalue("redis_url"))
    yield limiter
    limiter.close()


@pytest.mark.anyio
async def test_admit_counts_and_reads_versions_until_a_bump(store: RateLimiter) -> None:
    first = await store.admit("user:u", limit=2, window_seconds=60, scopes=["user:u", "org:o"])
    again = await store.admit("user:u", limit=2, window_seconds=60, scopes=["user:u", "org:o"])
    assert (first.hit.count, again.hit.count) == (1, 2)
    assert again.hit.allowed
    assert again.versions == first.versions
    assert len(set(first.versions)) == 2
    store.bump(["org:o"])
    third = await store.admit("user:u", limit=2, window_seconds=60, scopes=["user:u", "org:o"])
    assert not third.hit.allowed
    assert third.versions[0] == first.versions[0]
    assert third.versions[1] != first.versions[1]
    # the window is the one ``hit`` counts in
    assert store.hit("user:u", limit=2, window_seconds=60).count == 4
    await store.aclose()


@pytest.mark.anyio
async def test_refund_gives_back_one_event_and_never_goes_below_zero(store: RateLimiter) -> None:
    await store.admit("k", limit=5, window_seconds=60, scopes=[])
    await store.admit("k", limit=5, window_seconds=60, scopes=[])
    await store.refund("k")
    await store.refund("k")
    await store.refund("k")
    await store.refund("never-counted")
    assert store.hit("k", limit=5, window_seconds=60).count == 1
    assert store.hit("never-counted", limit=5, window_seconds=60).count == 1
    await store.aclose()


@pytest.mark.anyio
async def test_a_lost_version_comes_back_new_never_old(redis_url: str) -> None:
    """Redis restarted or evicted the key: the version is a fresh token, not a reused one."""
    store = RedisRateLimiter(redis_url)
    before = (await store.admit("k", limit=9, window_seconds=60, scopes=["org:o"])).versions
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    after = (await store.admit("k", limit=9, window_seconds=60, scopes=["org:o"])).versions
    assert after != before
    await store.aclose()
    store.close()


@pytest.mark.anyio
async def test_hung_redis_fails_admit_within_the_timeout_then_the_breaker_answers(
    silent_server: int,
) -> None:
    store = RedisRateLimiter(
        f"redis://127.0.0.1:{silent_server}/0", timeout_seconds=0.3, breaker_seconds=5
    )
    started = time.monotonic()
    with pytest.raises(LimiterUnavailable):
        await store.admit("k", limit=5, window_seconds=60, scopes=["user:u"])
    assert time.monotonic() - started < 1.5
    with pytest.raises(LimiterUnavailable, match="recently failed"):
        await store.admit("k", limit=5, window_seconds=60, scopes=["user:u"])
    with pytest.raises(LimiterUnavailable, match="recently failed"):
        store.bump(["user:u"])
    store.close()


def test_memory_backoff_grows_after_the_free_attempts_and_is_forgotten() -> None:
    now = [1000.0]
    limiter = MemoryRateLimiter(clock=lambda: now[0])
    backoff = Backoff(free=2, base_seconds=1, cap_seconds=4, forget_seconds=60)
    record = [("a", backoff)]
    assert [limiter.attempt(record) for _ in range(2)] == [0.0, 0.0]
    assert limiter.attempt(record) == pytest.approx(1)  # third attempt: wait 1 s
    waits = []
    for _ in range(4):
        now[0] += limiter.attempt(record)  # wait as told, then try
        assert limiter.attempt(record) == 0.0
        waits.append(limiter.attempt(record))
    assert waits == pytest.approx([2, 4, 4, 4])  # doubling, capped
    now[0] += 4 + 61  # the wait, then a quiet minute: forgotten
    assert [limiter.attempt(record) for _ in range(2)] == [0.0, 0.0]


def test_backoff_counts_nothing_while_any_record_waits(store: RateLimiter) -> None:
    slow = Backoff(free=1, base_seconds=60, cap_seconds=60, forget_seconds=60)
    generous = Backoff(free=5, base_seconds=60, cap_seconds=60, forget_seconds=60)
    assert store.attempt([("account", slow), ("address", generous)]) == 0.0
    wait = store.attempt([("account", slow), ("address", generous)])
    assert 59 < wait <= 60
    # refused attempts were not counted against the address: four more are free
    assert [store.attempt([("address", generous)]) for _ in range(4)] == [0.0] * 4
    assert store.attempt([("address", generous)]) > 59


def test_forgive_takes_back_one_attempt_and_reset_forgets_all(store: RateLimiter) -> None:
    backoff = Backoff(free=2, base_seconds=60, cap_seconds=60, forget_seconds=60)
    assert store.attempt([("k", backoff)]) == 0.0
    store.forgive("k")
    store.forgive("k")  # never below zero
    store.forgive("never-counted")
    assert store.attempt([("k", backoff)]) == 0.0
    assert store.attempt([("k", backoff)]) == 0.0  # the second counted attempt sets the wait
    assert store.attempt([("k", backoff)]) > 59
    store.reset("k")
    assert store.attempt([("k", backoff)]) == 0.0


def test_redis_backoff_waits_in_real_time(redis_url: str) -> None:
    limiter = RedisRateLimiter(redis_url)
    backoff = Backoff(free=1, base_seconds=0.2, cap_seconds=0.4, forget_seconds=1)
    assert limiter.attempt([("k", backoff)]) == 0.0
    assert 0.1 < limiter.attempt([("k", backoff)]) <= 0.2
    time.sleep(0.25)
    assert limiter.attempt([("k", backoff)]) == 0.0
    assert 0.3 < limiter.attempt([("k", backoff)]) <= 0.4
    client = redis.Redis.from_url(redis_url)
    assert 1000 < client.pttl("autoclip:rl:k") <= 1400  # forgotten a second after the wait
    client.close()
    limiter.close()
