from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from autoclip_core.db.engine import Database
from autoclip_core.db.migrate import upgrade

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
def db(db_url: str) -> Iterator[Database]:
    """The app database at ``db_url``, migrated (both backends)."""
    upgrade(db_url)
    database = Database.open(db_url)
    yield database
    database.dispose()


@pytest.fixture(autouse=True)
def _no_stale_defs_state_storage() -> Iterator[None]:
    """Each test starts without a defs-state storage left in Dagster's context variable.

    Entering a DagsterInstance puts its storage there, holding the instance by weakref; once
    that instance is collected, loading definitions can fail with "Attempted to resolve
    undefined DagsterInstance weakref" (rarely: the collection has to fall between two tests).
    """
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(None):
        yield
