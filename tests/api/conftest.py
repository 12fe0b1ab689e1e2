"""API test setup: the app over ASGI against a real PostgreSQL and a real Redis.

PostgreSQL: a database of its own (``autoclip_api_test``) on the server that
``scripts/with-test-services.sh`` starts, migrated once per run and truncated before each test.
Redis: database 3 of that server, flushed before each test. Without those servers the tests
that need them are skipped locally and fail under CI. The SQLite default is covered by
``test_sqlite_smoke.py``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import redis
from fastapi import FastAPI
from sqlalchemy import create_engine, make_url, text

from autoclip_api.app import create_app
from autoclip_core.db.migrate import upgrade
from autoclip_core.db.models import Base
from autoclip_core.settings import Settings
from tests.api.helpers import ApiClient, Outbox
from tests.conftest import migrated
from tests.fakes.google_idp import FakeGoogle, running_fake_google

POSTGRES_URL = os.environ.get("AUTOCLIP_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("AUTOCLIP_TEST_REDIS_URL")
API_TEST_DATABASE = "autoclip_api_test"
REDIS_TEST_DB = 3
JWT_SECRET = "tests-only-jwt-secret-0123456789abcdefghijklmnop"
# Cheap argon2id for speed; allowed only with env=test (test_passwords.py proves the defaults).
FAST_HASHING: dict[str, Any] = {
    "password_hash_time_cost": 1,
    "password_hash_memory_kib": 1024,
    "password_hash_parallelism": 1,
}


def require_service(name: str, value: str | None) -> str:
    if not value:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not set: run through `make test`")
        pytest.skip(f"no {name} (run through scripts/with-test-services.sh)")
    return value


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    """A fake Google identity provider on 127.0.0.1 (``google.app_settings()`` configures the
    API for it)."""
    with running_fake_google() as idp:
        yield idp


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    base = require_service("AUTOCLIP_TEST_POSTGRES_URL", POSTGRES_URL)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {API_TEST_DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {API_TEST_DATABASE}"))
    url = make_url(base).set(database=API_TEST_DATABASE).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {API_TEST_DATABASE} WITH (FORCE)"))
    admin.dispose()


def emptied(database_url: str) -> str:
    """``database_url`` after truncating every table."""
    engine = create_engine(database_url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return database_url


def flushed_redis_url() -> str:
    """The tests' Redis database, flushed."""
    base = require_service("AUTOCLIP_TEST_REDIS_URL", REDIS_URL)
    url = urlunsplit(urlsplit(base)._replace(path=f"/{REDIS_TEST_DB}"))
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@pytest.fixture
def pg_url(pg_database: str) -> str:
    """The migrated test database, emptied."""
    return emptied(pg_database)


@pytest.fixture
def redis_url() -> str:
    return flushed_redis_url()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return migrated(f"sqlite:///{tmp_path / 'app.db'}")


def make_settings(
    data_dir: Path, database_url: str, redis_url: str | None, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "data_dir": data_dir,
        "database_url": database_url,
        "redis_url": redis_url,
        "jwt_secret": JWT_SECRET,
        "auth_rate_limit_per_minute": 10_000,
        "register_rate_limit_per_hour": 10_000,
        # A refresh token replayed at once is reuse here; test_tokens.py sets the grace window.
        "refresh_reuse_grace_seconds": 0,
        "api_rate_limit_per_minute": 100_000,
        **FAST_HASHING,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings_factory(tmp_path: Path, pg_url: str, redis_url: str) -> Callable[..., Settings]:
    """Settings of the default test stack (PostgreSQL + Redis); keyword overrides."""

    def build(**overrides: Any) -> Settings:
        return make_settings(tmp_path, pg_url, overrides.pop("redis_url", redis_url), **overrides)

    return build


@pytest.fixture
def app_factory(settings_factory: Callable[..., Settings]) -> Iterator[Callable[..., FastAPI]]:
    apps: list[FastAPI] = []

    def build(settings: Settings | None = None, **overrides: Any) -> FastAPI:
        app = create_app(settings or settings_factory(**overrides))
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.state.api.close()


def client_for(app: FastAPI, ip: str = "127.0.0.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 40000)),
        base_url="http://testserver",
    )


@pytest.fixture
def app(app_factory: Callable[..., FastAPI]) -> FastAPI:
    return app_factory()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[ApiClient]:
    async with client_for(app) as http:
        yield ApiClient(http, outbox_of(app))


def outbox_of(app: FastAPI) -> Outbox:
    """Where the app's log mail provider writes (its data dir)."""
    return Outbox.of(app.state.api.settings.root)
