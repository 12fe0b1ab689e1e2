"""A token bucket per vendor: ``rate`` requests per second with bursts of ``burst``.

In-process by default (one bucket per vendor and process); with Redis, every worker of every
process shares the bucket, so the documented vendor limit holds across the deployment.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import cache
from typing import Any, Protocol

# Documented limits, requests per minute; vendors not listed are not throttled here
# (their limits depend on the account's plan: set them with AUTOCLIP_VENDOR_REQUESTS_PER_MINUTE).
DEFAULT_REQUESTS_PER_MINUTE: dict[str, float] = {
    "gemini": 60.0,  # the seed's free-tier figure
    "pexels": 200.0 / 60.0,  # 200 requests per hour
    "pixabay": 100.0,  # 100 requests per 60 seconds
}


class RateLimiter(Protocol):
    def acquire(self) -> None:
        """Block until one request may be sent."""


class TokenBucket:
    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1, got {rate}, {burst}")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = burst
        self._updated = clock()
        self._lock = threading.Lock()

    def _take(self) -> float:
        """Take a token if there is one (0.0), or say how long until there is."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate

    def acquire(self) -> None:
        while (wait := self._take()) > 0:
            self._sleep(wait)


# KEYS[1] bucket; ARGV rate/s, burst. Redis' own clock, so all workers agree on the time.
_REDIS_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - updated) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return tostring(wait)
"""


class RedisTokenBucket:
    def __init__(
        self,
        client: Any,
        vendor: str,
        rate: float,
        burst: float = 1.0,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1, got {rate}, {burst}")
        self.key = f"autoclip:ratelimit:{vendor}"
        self.rate = rate
        self.burst = burst
        self._script = client.register_script(_REDIS_TAKE)
        self._sleep = sleep

    def acquire(self) -> None:
        while (wait := float(self._script(keys=[self.key], args=[self.rate, self.burst]))) > 0:
            self._sleep(wait)


_local: dict[tuple[str, float], TokenBucket] = {}
_local_lock = threading.Lock()


def limiter_for(
    vendor: str,
    *,
    overrides: dict[str, float] | None = None,
    redis_url: str | None = None,
) -> RateLimiter | None:
    """The bucket of ``vendor`` at its requests per minute (``overrides`` first, then the
    documented default), shared in this process; None for a vendor with no limit."""
    per_minute = (overrides or {}).get(vendor, DEFAULT_REQUESTS_PER_MINUTE.get(vendor))
    if per_minute is None or per_minute <= 0:
        return None
    rate = per_minute / 60.0
    if redis_url:
        return RedisTokenBucket(_redis_client(redis_url), vendor, rate)
    with _local_lock:
        return _local.setdefault((vendor, rate), TokenBucket(rate))


@cache
def _redis_client(url: str) -> Any:
    """One client (one connection pool) per URL and process, however many limiters use it."""
    import redis

    return redis.Redis.from_url(url)
