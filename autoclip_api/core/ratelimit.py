"""The store every API process shares: rate-limit windows, and the cache versions.

Redis when configured, process memory otherwise (one process: ``python -m autoclip_api serve``
refuses several workers without Redis).

**Rate limits.** ``hit`` counts one event against ``key`` and says whether it is within
``limit`` for the current window (which starts at the key's first event).

**Cache versions.** A cached answer is tagged with the version of its *scope*, read at the
start of the request that computed it, and served only while the scope still has that version
(the scopes and the key scheme: ``autoclip_core/cache_versions.py``). A write bumps the
versions of the scopes it changed once its transaction commits, so every request that starts
after the write misses.

**Back-off.** ``attempt`` counts one attempt against several records at once (sign-in: the
account from this address, and the address) unless one of them must still wait; after a
record's free attempts every further one waits twice as long as the one before (up to a cap).

**Admission.** ``admit`` is the one round trip of an authenticated request: it counts the
request against the caller's limit and reads the versions of its scopes.

With Redis configured but unreachable every method raises :class:`LimiterUnavailable`;
callers decide: the general API limit fails open and caches are bypassed (reads keep working),
authentication fails closed (503). A short circuit breaker keeps a dead Redis from costing a
connect timeout on every request.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.retry import Retry

from autoclip_core.cache_versions import VERSION_TTL_SECONDS, bump, new_version, version_key

logger = logging.getLogger(__name__)

_WINDOWS = "autoclip:rl:"

# KEYS[1]: the window; ARGV[1]: its length (ms). Leaves ``count`` and ``ttl`` (ms left).
_WINDOW = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
"""
_HIT = _WINDOW + "return {count, ttl}"
# The window, then the versions of KEYS[2..]; a missing one is created from ARGV[2] (a fresh
# random token) with a TTL of ARGV[3] seconds.
_ADMIT = (
    _WINDOW
    + """
local result = {count, ttl}
for i = 2, #KEYS do
  local version = redis.call('GET', KEYS[i])
  if not version then
    version = ARGV[2] .. i
    redis.call('SET', KEYS[i], version, 'EX', ARGV[3])
  end
  result[i + 1] = version
end
return result
"""
)
# KEYS: back-off records (hashes: ``c`` attempts, ``u`` the Redis time in ms before which the
# next attempt waits); ARGV: four numbers per key (free attempts, base, cap, forget in ms).
# Nothing is counted while any record waits: the reply is the longest wait in ms (0: counted).
_ATTEMPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
for i = 1, #KEYS do
  local left = tonumber(redis.call('HGET', KEYS[i], 'u') or '0') - now
  if left > wait then wait = left end
end
if wait > 0 then return wait end
for i = 1, #KEYS do
  local o = (i - 1) * 4
  local free, base = tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2])
  local cap, forget = tonumber(ARGV[o + 3]), tonumber(ARGV[o + 4])
  local count = redis.call('HINCRBY', KEYS[i], 'c', 1)
  local delay = 0
  if count >= free then delay = math.min(base * 2 ^ math.min(count - free, 40), cap) end
  delay = math.floor(delay)
  redis.call('HSET', KEYS[i], 'u', now + delay)
  redis.call('PEXPIRE', KEYS[i], delay + forget)
end
return 0
"""
# Takes one attempt off the back-off record KEYS[1] (its current wait stays).
_FORGIVE = """
if tonumber(redis.call('HGET', KEYS[1], 'c') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'c', -1)
end
return 0
"""
# Gives back one event of the window KEYS[1] (never below zero, never creating it).
_REFUND = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


class LimiterUnavailable(RuntimeError):
    """The configured store (Redis) cannot be reached."""


@dataclass(frozen=True, slots=True)
class Hit:
    count: int
    limit: int
    reset_after: float  # seconds until the window ends

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit


@dataclass(frozen=True, slots=True)
class Backoff:
    """Growing waits: ``free`` attempts at once, then ``base_seconds`` before the next one,
    doubled for each further attempt up to ``cap_seconds``. A record is forgotten
    ``forget_seconds`` after its last wait ended without another attempt."""

    free: int
    base_seconds: float
    cap_seconds: float
    forget_seconds: float

    def delay(self, attempts: int) -> float:
        """The wait after ``attempts`` attempts."""
        if attempts < self.free:
            return 0.0
        return min(self.base_seconds * 2.0 ** min(attempts - self.free, 40), self.cap_seconds)


@dataclass(frozen=True, slots=True)
class Admission:
    """One request's count against its limit and the versions of its scopes (same order)."""

    hit: Hit
    versions: tuple[str, ...]


class RateLimiter(Protocol):
    backend: str

    def hit(self, key: str, *, limit: int, window_seconds: int) -> Hit: ...

    def reset(self, key: str) -> None:
        """Forgets the window or back-off record ``key``."""
        ...

    def attempt(self, records: Sequence[tuple[str, Backoff]]) -> float:
        """Counts one attempt against every record, unless one must still wait: then nothing
        is counted and the answer is the longest wait in seconds (0.0: counted)."""
        ...

    def forgive(self, key: str) -> None:
        """Takes one attempt off the back-off record ``key`` (an attempt that succeeded)."""
        ...

    def bump(self, scopes: Sequence[str]) -> None:
        """New versions for ``scopes`` (call once the change is committed)."""
        ...

    async def admit(
        self, key: str, *, limit: int, window_seconds: int, scopes: Sequence[str]
    ) -> Admission:
        """``hit`` on ``key`` and the current versions of ``scopes``, in one round trip."""
        ...

    async def refund(self, key: str) -> None:
        """Takes back one event of ``key`` (an admitted request that was not the key's)."""
        ...

    def ping(self) -> None: ...

    def close(self) -> None: ...

    async def aclose(self) -> None: ...


def hashed(value: str) -> str:
    """Keys name accounts by a hash: no email address is stored in the limiter."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class MemoryRateLimiter:
    """Per-process state (the local default: one process, no Redis)."""

    backend = "memory"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, float]] = {}
        self._backoffs: dict[str, tuple[int, float, float]] = {}  # attempts, wait until, expiry
        self._versions: dict[str, str] = {}
        self._next_sweep = 0.0

    def hit(self, key: str, *, limit: int, window_seconds: int) -> Hit:
        now = self._clock()
        with self._lock:
            self._sweep(now)
            count, reset_at = self._windows.get(key, (0, now + window_seconds))
            if reset_at <= now:
                count, reset_at = 0, now + window_seconds
            count += 1
            self._windows[key] = (count, reset_at)
        return Hit(count, limit, reset_at - now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)
            self._backoffs.pop(key, None)

    def attempt(self, records: Sequence[tuple[str, Backoff]]) -> float:
        now = self._clock()
        with self._lock:
            self._sweep(now)
            counts: dict[str, int] = {}
            wait = 0.0
            for key, _ in records:
                count, until, expiry = self._backoffs.get(key, (0, 0.0, 0.0))
                if expiry > now:
                    counts[key] = count
                    wait = max(wait, until - now)
            if wait > 0:
                return wait
            for key, backoff in records:
                count = counts.get(key, 0) + 1
                delay = backoff.delay(count)
                self._backoffs[key] = (count, now + delay, now + delay + backoff.forget_seconds)
        return 0.0

    def forgive(self, key: str) -> None:
        with self._lock:
            record = self._backoffs.get(key)
            if record is not None and record[0] > 0:
                self._backoffs[key] = (record[0] - 1, record[1], record[2])

    def bump(self, scopes: Sequence[str]) -> None:
        with self._lock:
            for scope in scopes:
                self._versions[scope] = new_version()

    async def admit(
        self, key: str, *, limit: int, window_seconds: int, scopes: Sequence[str]
    ) -> Admission:
        hit = self.hit(key, limit=limit, window_seconds=window_seconds)
        with self._lock:
            versions = tuple(self._versions.setdefault(s, new_version()) for s in scopes)
        return Admission(hit, versions)

    async def refund(self, key: str) -> None:
        with self._lock:
            count, reset_at = self._windows.get(key, (0, 0.0))
            if count > 0:
                self._windows[key] = (count - 1, reset_at)

    def ping(self) -> None:
        return None

    def close(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    def _sweep(self, now: float) -> None:
        """Drops ended windows and forgotten back-off records (once a minute; lock held)."""
        if now >= self._next_sweep:
            self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
            self._backoffs = {k: v for k, v in self._backoffs.items() if v[2] > now}
            self._next_sweep = now + 60


class RedisRateLimiter:
    """Redis: a blocking client for the thread-pool code (sign-in, commits), an asyncio one for
    the per-request ``admit``/``refund`` (created in, and bound to, the running event loop)."""

    backend = "redis"

    def __init__(
        self,
        url: str,
        *,
        timeout_seconds: float = 0.5,
        breaker_seconds: float = 2.0,
    ) -> None:
        self._url = url
        self._timeout = timeout_seconds
        self._client = redis.Redis.from_url(
            url,
            socket_connect_timeout=timeout_seconds,
            socket_timeout=timeout_seconds,
            health_check_interval=30,
            retry=Retry(NoBackoff(), 0),  # fail fast: callers decide (503 or fail open)
        )
        self._hit = self._client.register_script(_HIT)
        self._attempt = self._client.register_script(_ATTEMPT)
        self._forgive = self._client.register_script(_FORGIVE)
        self._aclient: aioredis.Redis | None = None
        self._aloop: asyncio.AbstractEventLoop | None = None
        self._ascripts: tuple[AsyncScript, AsyncScript] | None = None
        self._breaker_seconds = breaker_seconds
        self._open_until = 0.0

    # rate limits and versions ---------------------------------------------------------------

    def hit(self, key: str, *, limit: int, window_seconds: int) -> Hit:
        self._guard()
        try:
            count, ttl_ms = self._hit(keys=[_WINDOWS + key], args=[window_seconds * 1000])
        except (redis.RedisError, OSError) as exc:
            raise self._trip(exc) from exc
        return Hit(int(count), limit, int(ttl_ms) / 1000)

    def reset(self, key: str) -> None:
        self._guard()
        try:
            self._client.delete(_WINDOWS + key)
        except (redis.RedisError, OSError) as exc:
            raise self._trip(exc) from exc

    def attempt(self, records: Sequence[tuple[str, Backoff]]) -> float:
        self._guard()
        args: list[int] = []
        for _, backoff in records:
            args += [
                backoff.free,
                round(backoff.base_seconds * 1000),
                round(backoff.cap_seconds * 1000),
                round(backoff.forget_seconds * 1000),
            ]
        try:
            wait_ms = self._attempt(keys=[_WINDOWS + key for key, _ in records], args=args)
        except (redis.RedisError, OSError) as exc:
            raise self._trip(exc) from exc
        return int(wait_ms) / 1000

    def forgive(self, key: str) -> None:
        self._guard()
        try:
            self._forgive(keys=[_WINDOWS + key])
        except (redis.RedisError, OSError) as exc:
            raise self._trip(exc) from exc

    def bump(self, scopes: Sequence[str]) -> None:
        if not scopes:
            return
        self._guard()
        try:
            bump(self._client, scopes)
        except (redis.RedisError, OSError) as exc:
            raise self._trip(exc) from exc

    async def admit(
        self, key: str, *, limit: int, window_seconds: int, scopes: Sequence[str]
    ) -> Admission:
        self._guard()
        admit, _ = self._scripts()
        keys = [_WINDOWS + key, *map(version_key, scopes)]
        try:
            reply = await admit(
                keys=keys, args=[window_seconds * 1000, new_version(), VERSION_TTL_SECONDS]
            )
        except (redis.RedisError, OSError) as exc:  # TimeoutError is an OSError
            raise self._trip(exc) from exc
        count, ttl_ms, *versions = reply
        return Admission(
            Hit(int(count), limit, int(ttl_ms) / 1000), tuple(v.decode() for v in versions)
        )

    async def refund(self, key: str) -> None:
        self._guard()
        _, refund = self._scripts()
        try:
            await refund(keys=[_WINDOWS + key])
        except (redis.RedisError, OSError) as exc:  # TimeoutError is an OSError
            raise self._trip(exc) from exc

    # health -----------------------------------------------------------------------------------

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
        self._aclient = self._aloop = self._ascripts = None  # its sockets close with its loop

    async def aclose(self) -> None:
        if self._aclient is not None and self._aloop is asyncio.get_running_loop():
            await self._aclient.aclose()
        self._aclient = self._aloop = self._ascripts = None

    # internals --------------------------------------------------------------------------------

    def _scripts(self) -> tuple[AsyncScript, AsyncScript]:
        """``admit`` and ``refund`` on the asyncio client of the running loop (created on first
        use; a new loop, as in tests, gets a new client)."""
        loop = asyncio.get_running_loop()
        if self._ascripts is None or self._aloop is not loop:
            self._aclient = aioredis.Redis.from_url(
                self._url,
                socket_connect_timeout=self._timeout,
                socket_timeout=self._timeout,
                health_check_interval=30,
                retry=AsyncRetry(NoBackoff(), 0),
            )
            self._aloop = loop
            self._ascripts = (
                self._aclient.register_script(_ADMIT),
                self._aclient.register_script(_REFUND),
            )
        return self._ascripts

    def _guard(self) -> None:
        if time.monotonic() < self._open_until:
            raise LimiterUnavailable("redis unreachable (recently failed)")

    def _trip(self, exc: BaseException) -> LimiterUnavailable:
        if time.monotonic() >= self._open_until:
            logger.warning("rate-limit store (redis) unreachable: %s", type(exc).__name__)
        self._open_until = time.monotonic() + self._breaker_seconds
        return LimiterUnavailable(f"redis unreachable ({type(exc).__name__})")


def make_rate_limiter(redis_url: str | None) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()
