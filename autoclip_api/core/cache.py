"""In-process caches of answers tagged with the version of the data they were computed from.

The versions live in the rate-limit store (``core/ratelimit.py``; the key scheme:
``autoclip_core/cache_versions.py``): each request reads the current version of its scopes
before anything else, and a cached answer is served only if it was computed at that same
version. A committed write bumps the version, so the next request computes afresh — in every
process, since they all read the one shared version (with Redis, the pipeline's processes bump
it too).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class _Entry(Generic[V]):
    version: str
    value: V
    loaded_at: float  # when its load started: the data it holds is at least this old


class VersionedCache(Generic[K, V]):
    """``get_or_load(key, version, load)``: the value stored for ``key`` if it was computed at
    ``version`` and is younger than ``max_age_seconds``, else ``await load()`` (stored under
    ``version``). ``version=None`` (unknown: Redis is unreachable) always loads and
    stores nothing. Concurrent loads of one key at one version share a single ``load()``.

    ``max_age_seconds`` is a safety net, not the invalidation: it bounds how long an answer
    can outlive a change whose version bump was lost (Redis failing at that very moment) or
    that bypassed the repositories (SQL by hand). Used from the event loop only, except
    :meth:`invalidate_all`; least recently used entries go first.
    """

    def __init__(
        self,
        *,
        max_entries: int,
        max_age_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_age_seconds = max_age_seconds
        self._clock = clock
        self._entries: OrderedDict[K, _Entry[V]] = OrderedDict()
        self._loading: dict[tuple[K, str], asyncio.Future[V]] = {}
        self._valid_after = float("-inf")

    def __len__(self) -> int:
        return len(self._entries)

    async def get_or_load(self, key: K, version: str | None, load: Callable[[], Awaitable[V]]) -> V:
        if version is None:
            return await load()
        entry = self._entries.get(key)
        if (
            entry is not None
            and entry.version == version
            and entry.loaded_at > self._valid_after
            and self._clock() - entry.loaded_at < self.max_age_seconds
        ):
            self._entries.move_to_end(key)
            return entry.value
        flight = self._loading.get((key, version))
        if flight is None:
            flight = asyncio.ensure_future(self._load(key, version, load))
            self._loading[(key, version)] = flight
        # shielded: a caller that goes away (client disconnect) does not cancel the others' load
        return await asyncio.shield(flight)

    def invalidate_all(self) -> None:
        """Every entry, and every load under way, is stale (callable from any thread)."""
        self._valid_after = self._clock()

    async def _load(self, key: K, version: str, load: Callable[[], Awaitable[V]]) -> V:
        started = self._clock()
        try:
            value = await load()
        finally:
            del self._loading[(key, version)]
        self._entries[key] = _Entry(version, value, started)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return value
