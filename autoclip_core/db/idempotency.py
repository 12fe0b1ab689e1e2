"""Idempotency keys: the stored answer to a request sent with an ``Idempotency-Key``.

A key is scoped to its user and route. The first request claims it (:meth:`begin`: a row
without an answer, committed at once so that a concurrent retry sees it in flight), then
stores its response (:meth:`finish`); a request that failed unexpectedly gives it up
(:meth:`abandon`) so that a retry may run. Keys live ``KEY_LIFETIME``: an expired key is a
new key. A key left in flight longer than ``IN_FLIGHT_TIMEOUT`` (its process died before
answering) may be claimed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from autoclip_core.db.engine import Repository, aware
from autoclip_core.db.models import IdempotencyKey, utcnow

KEY_LIFETIME = timedelta(hours=24)
IN_FLIGHT_TIMEOUT = timedelta(minutes=2)


@dataclass(frozen=True)
class StoredRequest:
    fingerprint: str
    status_code: int | None
    """None: the first request is still being answered."""
    body: str | None
    expires_at: datetime


class IdempotencyRepository(Repository):
    def begin(
        self, user_id: str, route: str, key: str, fingerprint: str, *, now: datetime | None = None
    ) -> StoredRequest | None:
        """Claim the key for a new request (None), or what an earlier request with it left."""
        now = now or utcnow()
        for _ in range(2):
            with self._session() as s:
                row = s.get(IdempotencyKey, (user_id, route, key))
                if row is not None and not _expired(row, now):
                    return _stored(row)
                if row is not None:
                    s.delete(row)
                    s.flush()
            try:
                with self._session() as s:
                    # The user's expired keys go as a new one comes: the table stays as small
                    # as a day of requests.
                    s.execute(
                        delete(IdempotencyKey).where(
                            IdempotencyKey.user_id == user_id, IdempotencyKey.expires_at <= now
                        )
                    )
                    s.add(
                        IdempotencyKey(
                            user_id=user_id,
                            route=route,
                            key=key,
                            fingerprint=fingerprint,
                            created_at=now,
                            expires_at=now + KEY_LIFETIME,
                        )
                    )
                    s.flush()
                return None
            except IntegrityError:
                continue  # a concurrent request with the same key claimed it first: read it
        raise RuntimeError(f"idempotency key {key!r} could not be claimed")

    def finish(self, user_id: str, route: str, key: str, status_code: int, body: str) -> None:
        with self._session() as s:
            row = s.get(IdempotencyKey, (user_id, route, key))
            if row is not None:
                row.status_code = status_code
                row.body = body

    def abandon(self, user_id: str, route: str, key: str) -> None:
        with self._session() as s:
            s.execute(
                delete(IdempotencyKey).where(
                    IdempotencyKey.user_id == user_id,
                    IdempotencyKey.route == route,
                    IdempotencyKey.key == key,
                    IdempotencyKey.status_code.is_(None),
                )
            )


def _expired(row: IdempotencyKey, now: datetime) -> bool:
    if row.status_code is None:
        return aware(row.created_at) + IN_FLIGHT_TIMEOUT <= now
    return aware(row.expires_at) <= now


def _stored(row: IdempotencyKey) -> StoredRequest:
    return StoredRequest(row.fingerprint, row.status_code, row.body, aware(row.expires_at))
