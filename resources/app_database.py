from __future__ import annotations

from functools import cache

import dagster as dg

from autoclip_core.store import ContentStore


@cache
def _store(url: str) -> ContentStore:
    store = ContentStore(url)
    store.migrate()
    return store


class AppDatabase(dg.ConfigurableResource):
    """The app database (content items, projects, jobs). SQLite locally, PostgreSQL in prod."""

    url: str

    @property
    def store(self) -> ContentStore:
        return _store(self.url)
