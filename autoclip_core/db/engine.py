"""The one way to the app database: its engine, sessions and the repositories' base.

The API (per-request sessions, ``autoclip_api.core.db``) and the pipeline (``Database``, one
transaction per repository call) build on the same ``make_engine``, so both see the same
SQLite pragmas and PostgreSQL pool settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_POOL_SIZE = 10


def make_engine(url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> Engine:
    """An engine whose SQL parameters are never logged (``hide_parameters``).

    SQLite: the file's folder is created; WAL lets readers run beside the one writer and a
    busy database is waited for (30 s) rather than failed; foreign keys are enforced.
    """
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            hide_parameters=True,
            # The API's handlers and the ingest thread pool may use one pooled connection from
            # two threads (one after the other, never at once).
            connect_args={"timeout": 30, "check_same_thread": False},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(
        url,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


class Database:
    """The app database for code outside a request: each ``transaction()`` commits on exit."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str) -> Database:
        return cls(make_engine(url))

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


class Repository:
    """Base of the repositories (one module per aggregate).

    Bound to a ``Database``, every method runs in a transaction of its own. Bound to a
    ``Session`` (the API's request session), methods join the caller's transaction and the
    caller commits.
    """

    def __init__(self, bind: Database | Session) -> None:
        self._bind = bind

    @contextmanager
    def _session(self) -> Iterator[Session]:
        if isinstance(self._bind, Session):
            yield self._bind
        else:
            with self._bind.transaction() as session:
                yield session


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
def aware(value: datetime | None) -> datetime | None:
    """Stored times are UTC; SQLite hands them back naive."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
