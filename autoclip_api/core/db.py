"""The API's sessions (on the shared engine, ``autoclip_core.db.engine.make_engine``), the
per-request session dependency, and the one place where a committed write tells the caches
what it changed (:func:`changed`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool


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
    cached answer from before the change. Repositories call this next to every such write
(through their ``on_change`` hook for the shared ones of ``autoclip_core.db``).
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
