from __future__ import annotations

from functools import cache

import dagster as dg

from autoclip_core.cache_versions import RedisVersions
from autoclip_core.db.content import ContentRepository
from autoclip_core.db.engine import Database
from autoclip_core.db.jobs import JobRepository
from autoclip_core.db.media import MediaRepository
from autoclip_core.db.migrate import check_current
from autoclip_core.db.performance import PerformanceRepository
from autoclip_core.db.projects import ProjectRepository
from autoclip_core.db.sources import SourceRepository
from autoclip_core.db.templates import TemplateRepository
from autoclip_core.db.usage import VendorUsageRepository
from autoclip_core.documents.base import Backend, DocumentStore
from autoclip_core.documents.choice import open_store
from autoclip_core.documents.table import TableDocumentStore


@cache
def _database(url: str, redis_url: str | None) -> Database:
    """One engine per process and URL, on a database that is at the latest revision
    (``SchemaNotCurrentError`` names the command that migrates it; nothing is cached then).

    With Redis, each commit bumps the cache versions of what it changed, so the API's caches
    (which read the versions there) never serve content items from before a pipeline write."""
    database = Database.open(url, on_commit=RedisVersions(redis_url) if redis_url else None)
    try:
        check_current(database.engine)
    except Exception:
        database.dispose()
        raise
    return database


@cache
def _documents(
    backend: Backend, database_url: str, redis_url: str | None, mongodb_url: str | None
) -> DocumentStore:
    """One store (and MongoDB client) per process and configuration."""
    if backend == "table":
        return TableDocumentStore(_database(database_url, redis_url))
    return open_store(backend, database_url=database_url, mongodb_url=mongodb_url)


class AppDatabase(dg.ConfigurableResource):
    """The app database (content items, projects, jobs). SQLite locally, PostgreSQL in prod.
    Raw AI outputs go to its ``documents`` table, or to MongoDB when ``document_store`` says
    so. ``redis_url``: where the API reads its cache versions (``AUTOCLIP_REDIS_URL``)."""

    url: str
    document_store: Backend = "table"
    mongodb_url: str | None = None
    redis_url: str | None = None

    @property
    def database(self) -> Database:
        return _database(self.url, self.redis_url)

    @property
    def content(self) -> ContentRepository:
        return ContentRepository(self.database)

    @property
    def projects(self) -> ProjectRepository:
        return ProjectRepository(self.database)

    @property
    def sources(self) -> SourceRepository:
        return SourceRepository(self.database)

    @property
    def jobs(self) -> JobRepository:
        return JobRepository(self.database)

    @property
    def performance(self) -> PerformanceRepository:
        return PerformanceRepository(self.database)

    @property
    def media(self) -> MediaRepository:
        return MediaRepository(self.database)

    @property
    def templates(self) -> TemplateRepository:
        return TemplateRepository(self.database)

    @property
    def usage(self) -> VendorUsageRepository:
        return VendorUsageRepository(self.database)

    @property
    def documents(self) -> DocumentStore:
        return _documents(self.document_store, self.url, self.redis_url, self.mongodb_url)
