"""Uploads: an item's publication on each of its channels, one row per (item, channel).

A publication the API requests marks its channels ``pending``; the run-status sensors record
how each channel's publication ended — the receipt's URL when it published, the run's error
when it failed — and count the tries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from autoclip_core.db.engine import Repository, aware
from autoclip_core.db.models import Upload, utcnow
from autoclip_core.schemas import PublishReceipt


class UploadState(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    FAILED = "failed"


@dataclass(frozen=True)
class UploadRecord:
    channel: str
    state: UploadState
    url: str | None
    platform_id: str | None
    error: str | None
    attempts: int
    published_at: datetime | None
    updated_at: datetime

    @classmethod
    def of(cls, u: Upload) -> UploadRecord:
        return cls(
            u.channel,
            UploadState(u.state),
            u.url,
            u.platform_id,
            u.error,
            u.attempts or 0,
            aware(u.published_at),
            aware(u.updated_at),
        )


class UploadRepository(Repository):
    def request(self, content_id: str, channels: Iterable[str]) -> None:
        """These channels' publications are asked for (tries and past URLs are kept)."""
        with self._session() as s:
            for channel in dict.fromkeys(channels):
                upload = self._row(s, content_id, channel)
                upload.state = UploadState.PENDING
                upload.error = None
                upload.updated_at = utcnow()

    def published(self, content_id: str, receipts: Sequence[PublishReceipt]) -> None:
        """Each receipt's channel published (one more try each)."""
        with self._session() as s:
            for receipt in receipts:
                upload = self._row(s, content_id, receipt.channel)
                upload.state = UploadState.PUBLISHED
                upload.url = receipt.url
                upload.error = None
                upload.attempts = (upload.attempts or 0) + 1
                upload.published_at = receipt.published_at
                upload.updated_at = utcnow()

    def failed(self, content_id: str, channels: Iterable[str], error: str) -> None:
        """A publication run failed for these channels (one more try each); a channel that
        published before keeps its URL."""
        with self._session() as s:
            for channel in dict.fromkeys(channels):
                upload = self._row(s, content_id, channel)
                upload.state = UploadState.FAILED
                upload.error = error
                upload.attempts = (upload.attempts or 0) + 1
                upload.updated_at = utcnow()

    def of_content(self, content_id: str) -> list[UploadRecord]:
        with self._session() as s:
            rows = s.scalars(
                select(Upload).where(Upload.content_id == content_id).order_by(Upload.channel)
            )
            return [UploadRecord.of(u) for u in rows]

    @staticmethod
    def _row(s: Session, content_id: str, channel: str) -> Upload:
        upload = s.get(Upload, (content_id, channel))
        if upload is None:
            upload = Upload(
                content_id=content_id,
                channel=channel,
                state=UploadState.PENDING,
                attempts=0,
                updated_at=utcnow(),
            )
            s.add(upload)
        return upload
