"""The YouTube Data API quota, counted per Google API project per Pacific day.

Google resets the quota at midnight Pacific time. Its published costs have changed:
``videos.insert`` cost about 1,600 units until December 2025, then about 100; the June 2026
revision moved uploads to a daily bucket of their own (100 inserts) beside the 10,000 units
of everything else. Both models are supported (``QuotaPolicy.model``), and every cost can be
overridden (``AUTOCLIP_YOUTUBE_UNIT_COSTS``).

A charge is made before the call and only when the whole of it fits in what is left today;
otherwise ``QuotaWindowFull`` says when the next window opens, and nothing is charged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from autoclip_core.db.engine import Repository
from autoclip_core.db.models import YouTubeQuota
from autoclip_core.settings import Settings

PACIFIC = ZoneInfo("America/Los_Angeles")
QuotaModel = Literal["units", "upload_bucket"]
Bucket = Literal["units", "uploads"]

UPLOAD = "videos.insert"
UNIT_COSTS: Mapping[str, int] = {
    UPLOAD: 100,
    "thumbnails.set": 50,
    "videos.list": 1,
    "videos.update": 50,
    "channels.list": 1,
}
"""Units per call (Google's figures since December 2025); names missing here cost 1 unit."""


class QuotaWindowFull(Exception):
    """The charge does not fit in today's quota: wait until ``until`` (the next window)."""

    def __init__(self, message: str, *, until: datetime) -> None:
        super().__init__(message)
        self.until = until


def pacific_day(now: datetime) -> date:
    return now.astimezone(PACIFIC).date()


def next_window(now: datetime) -> datetime:
    """The next midnight in Pacific time (UTC), when Google resets the quota."""
    tomorrow = pacific_day(now) + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=PACIFIC).astimezone(UTC)


@dataclass(frozen=True)
class QuotaPolicy:
    model: QuotaModel = "upload_bucket"
    daily_units: int = 10_000
    daily_uploads: int = 100
    costs: Mapping[str, int] = field(default_factory=dict)
    """Overrides of ``UNIT_COSTS``."""

    def charge(self, operation: str, count: int = 1) -> tuple[Bucket, int]:
        """Which bucket ``count`` calls of ``operation`` spend, and how much of it."""
        if operation == UPLOAD and self.model == "upload_bucket":
            return "uploads", count
        return "units", count * {**UNIT_COSTS, **self.costs}.get(operation, 1)

    def limit(self, bucket: Bucket) -> int:
        return self.daily_uploads if bucket == "uploads" else self.daily_units

    @classmethod
    def from_settings(cls, settings: Settings) -> QuotaPolicy:
        return cls(
            settings.youtube_quota_model,
            settings.youtube_daily_units,
            settings.youtube_daily_uploads,
            dict(settings.youtube_unit_costs),
        )


def api_project(settings: Settings) -> str:
    """Whose quota YouTube counts: the Google API project of our OAuth client."""
    return settings.youtube_client_id or "default"


@dataclass(frozen=True)
class QuotaLeft:
    """What is left of today's quota (``uploads`` None in the units model)."""

    day: date
    units: int
    uploads: int | None
    resets_at: datetime


class QuotaRepository(Repository):
    def charge(
        self, api_project: str, policy: QuotaPolicy, operation: str, now: datetime, count: int = 1
    ) -> None:
        """Spend ``count`` calls of ``operation`` today, or raise ``QuotaWindowFull`` (nothing
        charged). Atomic: concurrent runs never overspend."""
        bucket, amount = policy.charge(operation, count)
        day, limit = pacific_day(now), policy.limit(bucket)
        self._ensure(api_project, day, bucket)
        with self._session() as s:
            charged = s.execute(
                update(YouTubeQuota)
                .where(
                    YouTubeQuota.api_project == api_project,
                    YouTubeQuota.day == day,
                    YouTubeQuota.bucket == bucket,
                    YouTubeQuota.exhausted.is_(False),
                    YouTubeQuota.used + amount <= limit,
                )
                .values(used=YouTubeQuota.used + amount)
            ).rowcount
        if not charged:
            until = next_window(now)
            raise QuotaWindowFull(
                f"YouTube quota: {operation} ({amount} {bucket}) does not fit in what is left "
                f"of {day.isoformat()} (Pacific); the next window opens {until.isoformat()}",
                until=until,
            )

    def exhausted(
        self, api_project: str, policy: QuotaPolicy, operation: str, now: datetime
    ) -> None:
        """The platform refused ``operation`` for quota: its bucket is spent for today."""
        bucket, _ = policy.charge(operation)
        day = pacific_day(now)
        self._ensure(api_project, day, bucket)
        with self._session() as s:
            s.execute(
                update(YouTubeQuota)
                .where(
                    YouTubeQuota.api_project == api_project,
                    YouTubeQuota.day == day,
                    YouTubeQuota.bucket == bucket,
                )
                .values(exhausted=True)
            )

    def left(self, api_project: str, policy: QuotaPolicy, now: datetime) -> QuotaLeft:
        day = pacific_day(now)
        with self._session() as s:
            rows = {
                r.bucket: r
                for r in s.scalars(
                    select(YouTubeQuota).where(
                        YouTubeQuota.api_project == api_project, YouTubeQuota.day == day
                    )
                )
            }

        def left_in(bucket: Bucket) -> int:
            row = rows.get(bucket)
            if row is None:
                return policy.limit(bucket)
            return 0 if row.exhausted else max(0, policy.limit(bucket) - row.used)

        return QuotaLeft(
            day=day,
            units=left_in("units"),
            uploads=left_in("uploads") if policy.model == "upload_bucket" else None,
            resets_at=next_window(now),
        )

    def _ensure(self, api_project: str, day: date, bucket: Bucket) -> None:
        """The day's row exists (a concurrent insert of the same row is no error)."""
        with self._session() as s:
            if s.get(YouTubeQuota, (api_project, day, bucket)) is not None:
                return
            row = YouTubeQuota(
                api_project=api_project, day=day, bucket=bucket, used=0, exhausted=False
            )
            try:
                with s.begin_nested():
                    s.add(row)
            except IntegrityError:
                pass
