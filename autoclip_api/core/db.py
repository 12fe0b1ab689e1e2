"""The API's app-database engine, the per-request session dependency, and the one place
where a committed write tells the caches what it changed (:func:`changed`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Engine for request handlers: SQL parameters are never logged (``hide_parameters``)."""
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            hide_parameters=True,
            # Handlers run in a thread pool: one request may use its connection from two threads
            # (one after the other, never at once).
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


def make_sessionmaker(
    engine: Engine, on_commit: Callable[[list[str]], None] | None = None
) -> sessionmaker[Session]:
    """Sessions of the API; ``on_commit`` receives the scopes each committed transaction
    marked as :func:`changed` (nothing for a rollback)."""
    sessions = sessionmaker(engine, expire_on_commit=False, autoflush=False)
    if on_commit is not None:

        @event.listens_for(sessions, "after_commit")
        def _publish(session: Session) -> None:
            scopes = session.info.pop(_CHANGED, None)
            if scopes:
                on_commit(sorted(scopes))

        @event.listens_for(sessions, "after_rollback")
        def _forget(session: Session) -> None:
            session.info.pop(_CHANGED, None)

    return sessions


_CHANGED = "autoclip.changed_scopes"


def changed(session: Session, *scopes: str) -> None:
    """Marks cache scopes (``core.ratelimit.user_scope``/``org_scope``) whose data the session's
    transaction changes: their versions are bumped once it commits, so no process serves a
    cached answer from before the change. Repositories call this next to every such write.
    """
    session.info.setdefault(_CHANGED, set()).update(scopes)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; services commit what they change, the rest is rolled back.

    Creating a session does no I/O, so it happens on the event loop; closing one that holds a
    connection (a rollback) goes to the thread pool like every other database call.
    """
    session: Session = request.app.state.api.sessions()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]
