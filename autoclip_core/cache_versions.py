"""The versions of the API's cached answers: the one key scheme every process shares.

A cached answer (``autoclip_api/core/cache.py``) is tagged with the version of its *scope*
(:func:`user_scope`: a user's sessions and roles; :func:`org_scope`: an organisation's data)
and served only while the scope keeps that version. Versions live in Redis under
:func:`version_key`; the API reads them there (``autoclip_api/core/ratelimit.py``) and every
process that changes a scope's data bumps them, the pipeline included.

A transaction marks the scopes it changes with :func:`changed`; :func:`publish_on_commit`
hands them to a publisher once the transaction commits (nothing for a rollback), so no
process serves an answer from before the change after the commit. The API's sessions publish
through its rate-limit store; the pipeline's ``Database`` through :class:`RedisVersions` when
Redis is configured. Versions are random tokens, never counters: one Redis lost (restart,
eviction) comes back as a new value, never as an old one.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

VERSION_KEY_PREFIX = "autoclip:v:"
VERSION_TTL_SECONDS = 24 * 3600  # an idle scope's version may lapse: it comes back new

Publisher = Callable[[list[str]], None]
"""Gives new versions to the scopes a committed transaction changed."""

_CHANGED = "autoclip.changed_scopes"


def user_scope(user_id: str) -> str:
    """A user's sessions and memberships (the state ``authenticate`` reads)."""
    return f"user:{user_id}"


def org_scope(org_id: str) -> str:
    """An organisation's data (its projects, channels, templates, content items...)."""
    return f"org:{org_id}"


def version_key(scope: str) -> str:
    return VERSION_KEY_PREFIX + scope


def new_version() -> str:
    return secrets.token_hex(8)


def bump(client: redis.Redis, scopes: Sequence[str]) -> None:
    """New versions for ``scopes`` in one round trip; Redis' errors (``redis.RedisError``,
    ``OSError``) are the caller's to handle."""
    if not scopes:
        return
    with client.pipeline(transaction=False) as pipe:
        for scope in scopes:
            pipe.set(version_key(scope), new_version(), ex=VERSION_TTL_SECONDS)
        pipe.execute()


def changed(session: Session, *scopes: str) -> None:
    """Marks scopes whose data the session's transaction changes: their versions are bumped
    once it commits. Repositories call this next to every such write."""
    session.info.setdefault(_CHANGED, set()).update(scopes)


def publish_on_commit(sessions: sessionmaker[Session], publish: Publisher) -> None:
    """``publish`` receives the scopes each committed transaction of these sessions marked as
    :func:`changed` (sorted; a rolled-back transaction's marks are dropped)."""

    @event.listens_for(sessions, "after_commit")
    def _publish(session: Session) -> None:
        scopes = session.info.pop(_CHANGED, None)
        if scopes:
            publish(sorted(scopes))

    @event.listens_for(sessions, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop(_CHANGED, None)


class RedisVersions:
    """The pipeline's publisher. A bump that fails is logged, never raised: the write it
    follows is committed, and the API's caches drop what they hold of the scope within
    their maximum age."""

    def __init__(self, url: str, *, timeout_seconds: float = 0.5) -> None:
        self._client = redis.Redis.from_url(
            url,
            socket_connect_timeout=timeout_seconds,
            socket_timeout=timeout_seconds,
            retry=Retry(NoBackoff(), 0),  # a pipeline write waits for one attempt at most
        )

    def __call__(self, scopes: list[str]) -> None:
        try:
            bump(self._client, scopes)
        except (redis.RedisError, OSError) as exc:
            logger.warning(
                "cache versions of %s not bumped (redis unreachable: %s): the API may serve "
                "their data from before this change until its caches age out",
                ", ".join(scopes),
                type(exc).__name__,
            )

    def close(self) -> None:
        self._client.close()
