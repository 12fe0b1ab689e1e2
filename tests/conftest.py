from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from autoclip_core.store import ContentStore

POSTGRES_URL = os.environ.get("AUTOCLIP_TEST_POSTGRES_URL")


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """An empty app database: SQLite (the default) and a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("AUTOCLIP_TEST_POSTGRES_URL is not set: run through `make test`")
        pytest.skip("no PostgreSQL (run through `make test`)")
    _reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
def store(db_url: str) -> Iterator[ContentStore]:
    s = ContentStore(db_url)
    s.migrate()
    yield s
    s.engine.dispose()
