from __future__ import annotations

import os
import signal
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from autoclip_core.db.engine import Database
from autoclip_core.db.migrate import upgrade

POSTGRES_URL = os.environ.get("AUTOCLIP_TEST_POSTGRES_URL")
PG_AT_HEAD, PG_COPY = "autoclip_test_at_head", "autoclip_test_copy"


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _on_test_server(database: str) -> str:
    assert POSTGRES_URL
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _postgres_at_head() -> Iterator[Engine]:
    """A database on the test server migrated to head once per run (``PG_AT_HEAD``): the
    template each test using ``db`` copies. Yields an engine on the server for CREATE/DROP."""
    admin = create_engine(_on_test_server("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {PG_AT_HEAD} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {PG_AT_HEAD}"))
    upgrade(_on_test_server(PG_AT_HEAD))
    yield admin
    with admin.connect() as conn:
        for database in (PG_COPY, PG_AT_HEAD):
            conn.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """An empty app database: SQLite (the default) and a real PostgreSQL server.

    For a test that takes ``db`` the PostgreSQL one is a new copy of ``PG_AT_HEAD`` instead:
    what ``db`` would otherwise migrate the empty one to, without replaying the migrations."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("AUTOCLIP_TEST_POSTGRES_URL is not set: run through `make test`")
        pytest.skip("no PostgreSQL (run through `make test`)")
    if "db" in request.fixturenames:
        admin: Engine = request.getfixturevalue("_postgres_at_head")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {PG_COPY} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {PG_COPY} TEMPLATE {PG_AT_HEAD}"))
        return _on_test_server(PG_COPY)
    _reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


_kept: list[tempfile.TemporaryDirectory[str]] = []


@cache
def _sqlite_at_head() -> Path:
    """One SQLite app database migrated to head per test run (its folder goes at exit)."""
    folder = tempfile.TemporaryDirectory(prefix="autoclip-sqlite-at-head-")
    _kept.append(folder)
    path = Path(folder.name) / "app.db"
    upgrade(f"sqlite:///{path}")
    return path


def migrated(url: str) -> str:
    """``upgrade(url)``; a new SQLite file becomes a copy of the run's migrated one instead (the
    same file, without replaying every migration per test: test_migrate.py runs them)."""
    path = Path(url.removeprefix("sqlite:///"))
    if not url.startswith("sqlite:///") or path.exists():
        upgrade(url)
        return url
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(_sqlite_at_head())) as source:
        with closing(sqlite3.connect(path)) as target:
            source.backup(target)
    return url


@pytest.fixture
def sqlite_app_url(tmp_path: Path) -> str:
    """``tmp_path / "app.db"``: a SQLite app database at head."""
    return migrated(f"sqlite:///{tmp_path / 'app.db'}")


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """The app database at ``db_url``, migrated (both backends)."""
    if make_url(db_url).database != PG_COPY:  # a copy is at head already
        migrated(db_url)
    database = Database.open(db_url)
    yield database
    database.dispose()


@pytest.fixture(autouse=True)
def _default_signal_dispositions() -> Iterator[None]:
    """Each test starts with SIGINT and SIGTERM as Python has them when nothing changed them
    (KeyboardInterrupt; terminate), and leaves them as it found them.

    A run executed in this process maps SIGTERM onto SIGINT's handler, and a suite started in
    the background of a non-interactive shell begins with SIGINT ignored: together they leave
    both ignored, and child processes inherit an ignored signal, so a stop's SIGTERM or SIGINT
    would not end them (tests/cli/test_dev.py).
    """
    names = (signal.SIGINT, signal.SIGTERM)
    saved = {signum: signal.getsignal(signum) for signum in names}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    for signum, handler in saved.items():
        if handler is not None:
            signal.signal(signum, handler)


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
