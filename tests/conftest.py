from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

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


@pytest.fixture(scope="session")
def _sqlite_at_head(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite app database migrated to head for the whole run: the migrations themselves are
    exercised by tests/core/db/test_migrate.py, the other tests only need their result."""
    path = tmp_path_factory.mktemp("sqlite-at-head") / "app.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def migrated_sqlite(_sqlite_at_head: Path) -> Callable[[Path], str]:
    """Makes ``path`` a SQLite app database at head (a copy of the run's migrated one: the same
    file ``upgrade`` writes, without replaying every migration per test); returns its URL."""

    def make(path: Path) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(_sqlite_at_head)) as source:
            with closing(sqlite3.connect(path)) as target:
                source.backup(target)
        return f"sqlite:///{path}"

    return make


@pytest.fixture
def sqlite_app_url(tmp_path: Path, migrated_sqlite: Callable[[Path], str]) -> str:
    """``tmp_path / "app.db"``: a SQLite app database at head."""
    return migrated_sqlite(tmp_path / "app.db")


@pytest.fixture
def db(db_url: str, migrated_sqlite: Callable[[Path], str]) -> Iterator[Database]:
    """The app database at ``db_url``, migrated (both backends)."""
    if db_url.startswith("sqlite:///"):
        migrated_sqlite(Path(db_url.removeprefix("sqlite:///")))
    else:
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
