"""The in-process versioned cache, and the commit hook that bumps versions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from autoclip_api.core.cache import VersionedCache
from autoclip_api.core.db import make_sessionmaker
from autoclip_core.cache_versions import changed

pytestmark = pytest.mark.anyio


class Loader:
    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self) -> str:
        self.calls += 1
        await self.release.wait()
        return f"value {self.calls}"


async def test_served_while_the_version_holds_reloaded_when_it_changes() -> None:
    cache: VersionedCache[str, str] = VersionedCache(max_entries=10, max_age_seconds=60)
    load = Loader()
    assert await cache.get_or_load("k", "v1", load) == "value 1"
    assert await cache.get_or_load("k", "v1", load) == "value 1"
    assert await cache.get_or_load("k", "v2", load) == "value 2"
    assert await cache.get_or_load("k", "v1", load) == "value 3"  # one entry per key
    assert load.calls == 3


async def test_unknown_version_always_loads_and_stores_nothing() -> None:
    cache: VersionedCache[str, str] = VersionedCache(max_entries=10, max_age_seconds=60)
    load = Loader()
    await cache.get_or_load("k", None, load)
    await cache.get_or_load("k", None, load)
    assert load.calls == 2
    assert len(cache) == 0


async def test_max_age_bounds_an_entry() -> None:
    now = [0.0]
    cache: VersionedCache[str, str] = VersionedCache(
        max_entries=10, max_age_seconds=5, clock=lambda: now[0]
    )
    load = Loader()
    await cache.get_or_load("k", "v", load)
    now[0] = 4.9
    await cache.get_or_load("k", "v", load)
    assert load.calls == 1
    now[0] = 5.0
    await cache.get_or_load("k", "v", load)
    assert load.calls == 2


async def test_least_recently_used_entries_go_first() -> None:
    cache: VersionedCache[str, str] = VersionedCache(max_entries=2, max_age_seconds=60)
    load = Loader()
    for key in ("a", "b", "a", "c"):  # "b" is the least recently used when "c" comes
        await cache.get_or_load(key, "v", load)
    assert load.calls == 3
    await cache.get_or_load("a", "v", load)
    assert load.calls == 3
    await cache.get_or_load("b", "v", load)
    assert load.calls == 4


async def test_concurrent_misses_share_one_load() -> None:
    cache: VersionedCache[str, str] = VersionedCache(max_entries=10, max_age_seconds=60)
    load = Loader()
    load.release.clear()
    waiting = [asyncio.ensure_future(cache.get_or_load("k", "v", load)) for _ in range(20)]
    await asyncio.sleep(0)
    load.release.set()
    assert set(await asyncio.gather(*waiting)) == {"value 1"}
    assert load.calls == 1


async def test_a_failed_load_is_not_stored() -> None:
    cache: VersionedCache[str, str] = VersionedCache(max_entries=10, max_age_seconds=60)

    async def fail() -> str:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError):
        await cache.get_or_load("k", "v", fail)
    assert len(cache) == 0
    assert await cache.get_or_load("k", "v", Loader()) == "value 1"


async def test_invalidate_all_covers_loads_already_under_way() -> None:
    now = [0.0]
    cache: VersionedCache[str, str] = VersionedCache(
        max_entries=10, max_age_seconds=60, clock=lambda: now[0]
    )
    load = Loader()
    await cache.get_or_load("a", "v", load)
    load.release.clear()
    now[0] = 1.0
    under_way = asyncio.ensure_future(cache.get_or_load("b", "v", load))
    while load.calls < 2:  # the load has started (and waits)
        await asyncio.sleep(0)
    now[0] = 2.0
    cache.invalidate_all()  # e.g. a version bump was lost: nothing from before may be served
    now[0] = 3.0
    load.release.set()
    await under_way
    await cache.get_or_load("a", "v", load)
    await cache.get_or_load("b", "v", load)
    assert load.calls == 4


def test_only_committed_changes_are_published(tmp_path: Path) -> None:
    published: list[list[str]] = []
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    sessions = make_sessionmaker(engine, on_commit=published.append)
    with sessions() as session:
        session.execute(text("SELECT 1"))
        changed(session, "org:b", "user:a")
        changed(session, "org:b")
        session.commit()
        assert published == [["org:b", "user:a"]]
        session.execute(text("SELECT 1"))
        changed(session, "user:rolled-back")
        session.rollback()
        session.execute(text("SELECT 1"))
        session.commit()  # nothing marked in this transaction
    assert published == [["org:b", "user:a"]]
    engine.dispose()
