"""Uploads: an item's publication on each of its channels, one row per (item, channel).

The row is the upload's journal, so that an item is published at most once per channel:

- a publication the API requests marks its channels ``pending`` (one already published
  stays so: a second request reports it instead of uploading again);
- the ``publication`` step writes ``uploading`` (one more try) before the upload starts, then
  keeps in ``journal`` what the publisher saves to resume it — committed before the publisher
  sends a byte — and the platform's id once known;
- it ends ``published``, ``waiting`` (for the quota's next window at ``retry_at``, or for the
  channel to be connected again) or, when the run fails, ``failed`` (the run-status sensors
  record that, with the run's error).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from autoclip_core.db.channels import ChannelState
from autoclip_core.db.engine import Database, Repository, aware
from autoclip_core.db.locks import held
from autoclip_core.db.models import Channel, Upload, utcnow
from autoclip_core.schemas import PublishReceipt


class UploadState(StrEnum):
    PENDING = "pending"
    """Asked for; not started."""
    UPLOADING = "uploading"
    """Started: the publisher may have a session on the platform (see the journal)."""
    WAITING = "waiting"
    """For the quota's next window (``retry_at``) or for the channel to be reconnected."""
    PUBLISHED = "published"
    FAILED = "failed"


UNFINISHED = (UploadState.PENDING, UploadState.UPLOADING)
"""What a run that fails leaves failed."""


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
    retry_at: datetime | None = None

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
            aware(u.retry_at),
        )

    def receipt(self) -> PublishReceipt | None:
        """The receipt of a published upload (None before)."""
        if self.state != UploadState.PUBLISHED or self.url is None or self.published_at is None:
            return None
        return PublishReceipt(
            channel=self.channel,
            url=self.url,
            published_at=self.published_at,
            platform_id=self.platform_id,
        )


@dataclass(frozen=True)
class DueUpload:
    content_id: str
    channel: str
    since: datetime
    """What makes the retry new: the window's start, or when the channel was reconnected."""


class UploadRepository(Repository):
    def request(self, content_id: str, channels: Iterable[str]) -> None:
        """These channels' publications are asked for (tries, journals and past URLs are
        kept; a published one stays published)."""
        with self._session() as s:
            for channel in dict.fromkeys(channels):
                upload = self._row(s, content_id, channel)
                if upload.state == UploadState.PUBLISHED:
                    continue
                upload.state = UploadState.PENDING
                upload.error = None
                upload.retry_at = None
                upload.updated_at = utcnow()

    def get(self, content_id: str, channel: str) -> UploadRecord | None:
        with self._session() as s:
            upload = s.get(Upload, (content_id, channel))
            return None if upload is None else UploadRecord.of(upload)

    def begin(self, content_id: str, channel: str) -> None:
        """The upload starts (one more try): committed before the publisher is called."""
        with self._session() as s:
            upload = self._row(s, content_id, channel)
            upload.state = UploadState.UPLOADING
            upload.error = None
            upload.retry_at = None
            upload.attempts = (upload.attempts or 0) + 1
            upload.updated_at = utcnow()

    def journal(self, content_id: str, channel: str) -> dict[str, Any]:
        with self._session() as s:
            upload = s.get(Upload, (content_id, channel))
            return dict(upload.journal or {}) if upload is not None else {}

    def save_journal(self, content_id: str, channel: str, values: dict[str, Any]) -> None:
        """Merge ``values`` into the upload's journal (``platform_id`` and ``url`` are also
        the upload's own)."""
        with self._session() as s:
            upload = self._row(s, content_id, channel)
            upload.journal = {**(upload.journal or {}), **values}
            if values.get("platform_id") is not None:
                upload.platform_id = str(values["platform_id"])
            if values.get("url") is not None:
                upload.url = str(values["url"])
            upload.updated_at = utcnow()

    def published(self, content_id: str, receipts: Sequence[PublishReceipt]) -> None:
        """Each receipt's channel published. A try the publication step did not record
        (``begin``) is counted here."""
        with self._session() as s:
            for receipt in receipts:
                upload = self._row(s, content_id, receipt.channel)
                if upload.state not in (UploadState.UPLOADING, UploadState.PUBLISHED):
                    upload.attempts = (upload.attempts or 0) + 1
                upload.state = UploadState.PUBLISHED
                upload.url = receipt.url
                upload.platform_id = receipt.platform_id or upload.platform_id
                upload.error = None
                upload.retry_at = None
                upload.published_at = receipt.published_at
                upload.updated_at = utcnow()

    def waiting(
        self, content_id: str, channel: str, reason: str, retry_at: datetime | None
    ) -> None:
        """The upload waits: for ``retry_at`` (a quota window), or None: for the channel to be
        connected again. Not a failure."""
        with self._session() as s:
            upload = self._row(s, content_id, channel)
            upload.state = UploadState.WAITING
            upload.error = reason
            upload.retry_at = retry_at
            upload.updated_at = utcnow()

    def failed(self, content_id: str, channels: Iterable[str], error: str) -> None:
        """A publication run failed for these channels. A published or waiting upload stays
        as it is; a try the publication step did not record (``begin``) is counted."""
        with self._session() as s:
            for channel in dict.fromkeys(channels):
                upload = self._row(s, content_id, channel)
                if upload.state in (UploadState.PUBLISHED, UploadState.WAITING):
                    continue
                if upload.state != UploadState.UPLOADING:
                    upload.attempts = (upload.attempts or 0) + 1
                upload.state = UploadState.FAILED
                upload.error = error
                upload.updated_at = utcnow()

    def of_content(self, content_id: str) -> list[UploadRecord]:
        with self._session() as s:
            rows = s.scalars(
                select(Upload).where(Upload.content_id == content_id).order_by(Upload.channel)
            )
            return [UploadRecord.of(u) for u in rows]

    def due(self, now: datetime) -> list[DueUpload]:
        """Waiting uploads to try again: their window has come, or (waiting for a reconnect)
        their channel can publish again."""
        with self._session() as s:
            rows = s.execute(
                select(Upload, Channel.updated_at)
                .outerjoin(Channel, Channel.slug == Upload.channel)
                .where(
                    Upload.state == UploadState.WAITING,
                    or_(
                        Upload.retry_at <= now,
                        Upload.retry_at.is_(None) & (Channel.state == ChannelState.ACTIVE),
                    ),
                )
                .order_by(Upload.content_id, Upload.channel)
            ).all()
            return [
                DueUpload(
                    u.content_id,
                    u.channel,
                    aware(u.retry_at) or aware(reconnected) or aware(u.updated_at),
                )
                for u, reconnected in rows
            ]

    @staticmethod
    def _row(s: Session, content_id: str, channel: str) -> Upload:
        upload = s.get(Upload, (content_id, channel))
        if upload is None:
            upload = Upload(
                content_id=content_id,
                channel=channel,
                state=UploadState.PENDING,
                attempts=0,
                journal={},
                updated_at=utcnow(),
            )
            s.add(upload)
        return upload


@contextmanager
def exclusive(database: Database, content_id: str, channel: str) -> Iterator[None]:
    """Hold this (item, channel) upload against every other process until the block ends:
    a second run publishing the same item waits, then finds it published."""
    with held(database.engine, f"upload:{content_id}:{channel}"):
        yield
