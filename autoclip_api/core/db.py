"""The API's sessions (on the shared engine, ``autoclip_core.db.engine.make_engine``) and the
per-request session dependency. A committed write tells the caches what it changed through
``autoclip_core.cache_versions.changed``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from autoclip_core.cache_versions import Publisher, publish_on_commit


def make_sessionmaker(engine: Engine, on_commit: Publisher | None = None) -> sessionmaker[Session]:
    """Sessions of the API; ``on_commit`` receives the scopes each committed transaction
    marked as changed (nothing for a rollback)."""
    sessions = sessionmaker(engine, expire_on_commit=False, autoflush=False)
    if on_commit is not None:
        publish_on_commit(sessions, on_commit)
    return sessions


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
