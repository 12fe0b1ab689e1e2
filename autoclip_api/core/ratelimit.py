"""Fixed-window counters for rate limiting: Redis when configured, in-process otherwise.

``hit`` counts one event against ``key`` and says whether it is within ``limit`` for the current
window (which starts at the key's first event). With Redis configured but unreachable it raises
:class:`LimiterUnavailable`; callers decide whether to fail open (general API limit) or closed
(authentication). A short circuit breaker keeps a dead Redis from costing a connect timeout on
every request.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
"""


class LimiterUnavailable(RuntimeError):
    """The configured rate-limit store (Redis) cannot be reached."""


@dataclass(frozen=True, slots=True)
class Hit:
    count: int
    limit: int
    reset_after: float  # seconds until the window ends

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit


class RateLimiter(Protocol):
    backend: str

    def hit(self, key: str, *, limit: int, window_seconds: int) -> Hit: ...

    def reset(self, key: str) -> None: ...

    def ping(self) -> None: ...

    def close(self) -> None: ...


def hashed(value: str) -> str:
    """Keys name accounts by a hash: no email address is stored in the limiter."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class MemoryRateLimiter:
    """Per-process counters (the local default: one process, no Redis)."""

    backend = "memory"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, float]] = {}
        self._next_sweep = 0.0

    def hit(self, key: str, *, limit: int, window_seconds: int) -> Hit:
        now = self._clock()
        with self._lock:
            if now >= self._next_sweep:
                self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
                self._next_sweep = now + 60
            count, reset_at = self._windows.get(key, (0, now + window_seconds))
            if reset_at <= now:
                count, reset_at = 0, now + window_seconds
            count += 1
            self._windows[key] = (count, reset_at)
        return Hit(count, limit, reset_at - now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None


class RedisRateLimiter:
    backend = "redis"

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "autoclip:rl:",
        timeout_seconds: float = 0.5,
        breaker_seconds: float = 2.0,
    ) -> None:
        self._client = redis.Redis.from_url(
            url,
            socket_connect_timeout=timeout_seconds,
            socket_timeout=timeout_seconds,
            health_check_interval=30,
            retry=Retry(NoBackoff(), 0),  # fail fast: callers decide (503 or fail open)
        )
        self._script = self._client.register_script(_HIT_SCRIPT)
        self._prefix = prefix
        self._breaker_seconds = breaker_seconds
        self._open_until = 0.0

    def _guard(self) -> None:
        if time.monotonic() < self._open_until:
            raise LimiterUnavailable("redis unreachable (recently failed)")

    def _trip(self, exc: Exception) -> LimiterUnavailable:
        if time.monotonic() >= self._open_until:
            logger.warning("rate-limit store unreachable: %s", type(exc).__name__)
        self._open_until = time.monotonic() + self._breaker_seconds
        return LimiterUnavailable(f"redis unreachable ({type(exc).__name__})")

    def hit(self, key: str, *, limit: int, window_seconds: int) -> Hit:
        self._guard()
        try:
            count, ttl_ms = self._script(keys=[self._prefix + key], args=[window_seconds * 1000])
        except (redis.RedisError, OSError) as exc:
            raise self._trip(exc) from exc
        return Hit(int(count), limit, int(ttl_ms) / 1000)

    def reset(self, key: str) -> None:
        self._guard()
        try:
            self._client.delete(self._prefix + key)
        except (redis.RedisError, OSError) as exc:
            raise self._trip(exc) from exc

    def ping(self) -> None:
        """Always asks Redis (readiness must not trust the breaker)."""
        try:
            self._client.ping()
        except (redis.RedisError, OSError) as exc:
            self._open_until = time.monotonic() + self._breaker_seconds
            raise LimiterUnavailable(f"redis unreachable ({type(exc).__name__})") from exc
        self._open_until = 0.0

    def close(self) -> None:
        self._client.close()


def make_rate_limiter(redis_url: str | None) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()
