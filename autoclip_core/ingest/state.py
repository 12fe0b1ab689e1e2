"""Per-source state during a tick, and where each part of it is kept.

For each source (key ``project/source``) the state has two parts:

- its **fetch position** — the validators of the last response (ETag, Last-Modified) and a
  small source-specific cursor — kept as JSON in the sensor cursor: it must advance
  atomically with the tick's partition requests (a lost tick re-reads the same entries and
  recovers their partitions);
- its **health** — when it was last checked and last succeeded, its last error and
  consecutive failures, when it is due next, counts — kept in the ``sources`` table
  (``autoclip_core.ingest.catalog``), where the API reads it.

A failing source backs off exponentially — ``poll_interval × 2^failures``, at most
``max_backoff_s`` (or longer when the server sent ``Retry-After``) — without holding back
the others.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autoclip_core.db.sources import SourceHealth

CURSOR_VERSION = 1
POSITION_FIELDS = frozenset({"etag", "last_modified", "cursor"})
"""What of a source's state the sensor cursor keeps (the rest is its health, in the table)."""


class SourceState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    etag: str | None = None
    last_modified: str | None = None
    cursor: dict[str, Any] = Field(
        default_factory=dict, description="Source-specific position (e.g. newest video seen)."
    )
    last_checked_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_warning: str | None = Field(
        default=None, description="What the last successful poll could not use, and why."
    )
    failures: int = 0
    next_due_at: datetime | None = None
    last_new: int = 0
    last_duplicates: int = 0
    total_new: int = 0

    def is_due(self, now: datetime) -> bool:
        return self.next_due_at is None or self.next_due_at <= now

    def apply_health(self, health: SourceHealth) -> None:
        """Take the health part from the ``sources`` table."""
        self.last_checked_at = health.last_checked_at
        self.last_success_at = health.last_success_at
        self.last_error = health.last_error
        self.last_warning = health.last_warning
        self.failures = health.consecutive_failures
        self.next_due_at = health.next_poll_at
        self.last_new = health.last_new
        self.last_duplicates = health.last_duplicates
        self.total_new = health.total_new

    def health(self) -> SourceHealth:
        return SourceHealth(
            last_checked_at=self.last_checked_at,
            last_success_at=self.last_success_at,
            last_error=self.last_error,
            last_warning=self.last_warning,
            consecutive_failures=self.failures,
            next_poll_at=self.next_due_at,
            last_new=self.last_new,
            last_duplicates=self.last_duplicates,
            total_new=self.total_new,
        )


class IngestCursor(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: int = CURSOR_VERSION
    sources: dict[str, SourceState] = Field(default_factory=dict)

    def state(self, key: str) -> SourceState:
        if key not in self.sources:
            self.sources[key] = SourceState()
        return self.sources[key]

    def dumps(self) -> str:
        """Compact JSON of the fetch positions (health is in the table); defaults left out."""
        positions = {
            key: state.model_dump(mode="json", exclude_defaults=True, include=POSITION_FIELDS)
            for key, state in self.sources.items()
        }
        data = {
            "version": self.version,
            "sources": {key: position for key, position in positions.items() if position},
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def loads(cls, raw: str | None) -> IngestCursor:
        """The cursor of the last tick; an empty or unreadable one starts afresh."""
        if not raw:
            return cls()
        try:
            cursor = cls.model_validate_json(raw)
        except ValidationError:
            return cls()
        return cursor if cursor.version == CURSOR_VERSION else cls()


def backoff_seconds(
    poll_interval: float, failures: int, *, max_backoff: float, retry_after: float | None = None
) -> float:
    """Delay before the next attempt after ``failures`` consecutive failures (≥ 1)."""
    delay = min(poll_interval * (2 ** min(failures, 20)), max(max_backoff, poll_interval))
    if retry_after is not None:
        delay = max(delay, min(retry_after, 24 * 3600.0))
    return delay


def record_success(
    state: SourceState,
    now: datetime,
    poll_interval: float,
    *,
    new: int,
    duplicates: int,
) -> None:
    state.last_checked_at = now
    state.last_success_at = now
    state.last_error = None
    state.failures = 0
    state.next_due_at = now + timedelta(seconds=poll_interval)
    state.last_new = new
    state.last_duplicates = duplicates
    state.total_new += new


def record_failure(
    state: SourceState,
    now: datetime,
    poll_interval: float,
    error: str,
    *,
    max_backoff: float,
    retry_after: float | None = None,
) -> None:
    state.last_checked_at = now
    state.last_error = error[:500]
    state.failures += 1
    delay = backoff_seconds(
        poll_interval, state.failures, max_backoff=max_backoff, retry_after=retry_after
    )
    state.next_due_at = now + timedelta(seconds=delay)
    state.last_new = 0
    state.last_duplicates = 0


def utcnow() -> datetime:
    return datetime.now(UTC)
