"""The one way to the app database: its engine, sessions and the repositories' base.

The API (per-request sessions, ``autoclip_api.core.db``) and the pipeline (``Database``, one
transaction per repository call) build on the same ``make_engine``, so both see the same
SQLite pragmas and PostgreSQL pool settings.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from autoclip_core.cache_versions import Publisher, publish_on_commit

DEFAULT_POOL_SIZE = 10
PING_IDLE_SECONDS = 1.0
"""A pooled PostgreSQL connection idle this long is pinged before use. One used more recently
served a query moments ago: under load (where a ping per checkout cost ~11% of a page's CPU)
no ping is sent, and a server restart takes longer than this, so after one every pooled
connection is pinged and a dead one replaced before any request sees it."""
_CHECKED_IN_AT = "autoclip.checked_in_at"


def make_engine(
    url: str, *, pool_size: int = DEFAULT_POOL_SIZE, ping_idle_seconds: float = PING_IDLE_SECONDS
) -> Engine:
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
    engine = create_engine(
        url,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_recycle=1800,
    )

    @event.listens_for(engine, "checkin")
    def _note_idle(_dbapi_conn: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.get(_CHECKED_IN_AT)
        if checked_in_at is None or time.monotonic() - checked_in_at < ping_idle_seconds:
            return  # new, or used moments ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out another (a new one if need be).
            raise exc.DisconnectionError() from error

    return engine


class Database:
    """The app database for code outside a request: each ``transaction()`` commits on exit.

    ``on_commit`` receives the cache scopes each committed transaction marked as changed
    (``autoclip_core.cache_versions``)."""

    def __init__(self, engine: Engine, *, on_commit: Publisher | None = None) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        if on_commit is not None:
            publish_on_commit(self._sessions, on_commit)

    @classmethod
    def open(cls, url: str, *, on_commit: Publisher | None = None) -> Database:
        return cls(make_engine(url), on_commit=on_commit)

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
