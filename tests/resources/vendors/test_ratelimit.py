from __future__ import annotations

import os
import time

import pytest

from resources.vendors.ratelimit import RedisTokenBucket, TokenBucket, limiter_for


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_bucket_allows_its_burst_then_spaces_requests_at_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=2.0, burst=2, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        bucket.acquire()
    assert clock.slept == [0.5, 0.5]


def test_an_idle_bucket_refills_only_up_to_its_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=1, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    clock.now += 60
    bucket.acquire()
    bucket.acquire()
    assert clock.slept == [1.0]


def test_documented_limits_apply_unless_overridden() -> None:
    gemini = limiter_for("gemini")
    assert isinstance(gemini, TokenBucket)
    assert gemini.rate == 1.0
    assert limiter_for("gemini") is gemini
    faster = limiter_for("gemini", overrides={"gemini": 120})
    assert isinstance(faster, TokenBucket)
    assert faster.rate == 2.0
    assert limiter_for("elevenlabs") is None
    assert limiter_for("gemini", overrides={"gemini": 0}) is None


REDIS_URL = os.environ.get("AUTOCLIP_TEST_REDIS_URL")


@pytest.mark.skipif(not REDIS_URL, reason="no Redis (run through scripts/with-test-services.sh)")
def test_the_redis_bucket_is_shared_between_limiters() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL or "")
    client.delete("autoclip:ratelimit:acme")
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    first = RedisTokenBucket(client, "acme", rate=2.0, burst=1, sleep=wait)
    second = RedisTokenBucket(client, "acme", rate=2.0, burst=1, sleep=wait)
    first.acquire()
    assert waits == []
    # The token the first limiter took is gone for the second one too.
    second.acquire()
    assert waits
    assert 0.2 < waits[0] <= 0.5
    client.delete("autoclip:ratelimit:acme")


@pytest.mark.skipif(not REDIS_URL, reason="no Redis (run through scripts/with-test-services.sh)")
def test_with_redis_configured_every_limiter_of_a_vendor_shares_one_bucket() -> None:
    first = limiter_for("gemini", redis_url=REDIS_URL)
    second = limiter_for("gemini", redis_url=REDIS_URL)
    assert isinstance(first, RedisTokenBucket)
    assert isinstance(second, RedisTokenBucket)
    assert first.key == second.key == "autoclip:ratelimit:gemini"
    assert first.rate == 1.0
