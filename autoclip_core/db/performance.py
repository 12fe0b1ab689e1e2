"""Performance snapshots: a published video's numbers per channel over time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select

from autoclip_core.db.content import content_or_raise
from autoclip_core.db.engine import Repository, aware
from autoclip_core.db.models import PerformanceSnapshot


@dataclass(frozen=True)
class PerformanceSample:
    """One channel's numbers for a published video at ``captured_at``."""

    channel: str
    url: str | None
    published_at: datetime | None
    views: int
    likes: int
    comments: int
    shares: int
    watch_time_s: float
    captured_at: datetime


class PerformanceRepository(Repository):
    def record(self, content_id: str, samples: Iterable[PerformanceSample]) -> int:
        """Store one snapshot per sample; how many."""
        with self._session() as s:
            content_or_raise(s, content_id)
            rows = [PerformanceSnapshot(content_id=content_id, **asdict(x)) for x in samples]
            s.add_all(rows)
            return len(rows)

    def of_content(self, content_id: str) -> list[PerformanceSample]:
        """A content item's snapshots, oldest first."""
        with self._session() as s:
            rows = s.scalars(
                select(PerformanceSnapshot)
                .where(PerformanceSnapshot.content_id == content_id)
                .order_by(PerformanceSnapshot.captured_at, PerformanceSnapshot.id)
            )
            return [
                PerformanceSample(
                    channel=r.channel,
                    url=r.url,
                    published_at=aware(r.published_at),
                    views=r.views,
                    likes=r.likes,
                    comments=r.comments,
                    shares=r.shares,
                    watch_time_s=r.watch_time_s,
                    captured_at=aware(r.captured_at),
                )
                for r in rows
            ]
