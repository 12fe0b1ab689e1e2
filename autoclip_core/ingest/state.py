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
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from autoclip_core.db.engine import aware

CURSOR_VERSION = 1
POSITION_FIELDS = frozenset({"etag", "last_modified", "cursor"})
"""What of a source's state the sensor cursor keeps (the rest is its health, in the table)."""

UtcDatetime = Annotated[datetime, AfterValidator(aware)]


class SourceHealth(BaseModel):
    """How a source is doing: the health columns of ``sources``, written after each poll or
    push, read by the API as they are."""

    model_config = ConfigDict(from_attributes=True, validate_assignment=True)

    last_checked_at: UtcDatetime | None = None
    last_success_at: UtcDatetime | None = None
    last_error: str | None = None
    last_warning: str | None = Field(
        default=None, description="What the last successful poll could not use, and why."
    )
    consecutive_failures: int = 0
    next_poll_at: UtcDatetime | None = Field(
        default=None, description="Due again at (polled sources)."
    )
    last_new: int = 0
    last_duplicates: int = 0
    total_new: int = 0


HEALTH_COLUMNS = tuple(SourceHealth.model_fields)


class SourceState(BaseModel):
    """A source during a tick: its fetch position and its health."""

    model_config = ConfigDict(extra="ignore")

    etag: str | None = None
    last_modified: str | None = None
    cursor: dict[str, Any] = Field(
        default_factory=dict, description="Source-specific position (e.g. newest video seen)."
    )
    health: SourceHealth = Field(default_factory=SourceHealth)

    def is_due(self, now: datetime) -> bool:
        return self.health.next_poll_at is None or self.health.next_poll_at <= now


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
    health: SourceHealth,
    now: datetime,
    poll_interval: float,
    *,
    new: int,
    duplicates: int,
) -> None:
    health.last_checked_at = now
    health.last_success_at = now
    health.last_error = None
    health.consecutive_failures = 0
    health.next_poll_at = now + timedelta(seconds=poll_interval)
    health.last_new = new
    health.last_duplicates = duplicates
    health.total_new += new


def record_failure(
    health: SourceHealth,
    now: datetime,
    poll_interval: float,
    error: str,
    *,
    max_backoff: float,
    retry_after: float | None = None,
) -> None:
    health.last_checked_at = now
    health.last_error = error[:500]
    health.consecutive_failures += 1
    delay = backoff_seconds(
        poll_interval, health.consecutive_failures, max_backoff=max_backoff, retry_after=retry_after
    )
    health.next_poll_at = now + timedelta(seconds=delay)
    health.last_new = 0
    health.last_duplicates = 0


def utcnow() -> datetime:
    return datetime.now(UTC)
