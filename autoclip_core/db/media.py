"""The files the pipeline made for each content item, by kind: what the API serves.

The ``video`` asset records them once its render is stored (storage keys are
content-addressed, so a re-render that changed nothing records the same keys again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select

from autoclip_core.db.engine import Repository, aware
from autoclip_core.db.models import ContentMedia, utcnow

MediaKind = Literal["video", "thumbnail", "audio", "captions"]
MEDIA_KINDS: tuple[MediaKind, ...] = ("video", "thumbnail", "audio", "captions")


@dataclass(frozen=True)
class MediaFile:
    storage_key: str
    media_type: str
    size_bytes: int
    created_at: datetime


class MediaRepository(Repository):
    def record(self, content_id: str, files: Mapping[MediaKind, MediaFile]) -> None:
        """The item's media are now ``files`` (every kind recorded before is replaced)."""
        with self._session() as s:
            s.execute(
                delete(ContentMedia).where(
                    ContentMedia.content_id == content_id, ContentMedia.kind.in_(list(files))
                )
            )
            s.add_all(
                ContentMedia(
                    content_id=content_id,
                    kind=kind,
                    storage_key=f.storage_key,
                    media_type=f.media_type,
                    size_bytes=f.size_bytes,
                    created_at=f.created_at,
                )
                for kind, f in files.items()
            )

    def of_content(self, content_id: str) -> dict[MediaKind, MediaFile]:
        with self._session() as s:
            rows = s.scalars(select(ContentMedia).where(ContentMedia.content_id == content_id))
            return {
                row.kind: MediaFile(  # type: ignore[misc]
                    row.storage_key, row.media_type, row.size_bytes, aware(row.created_at)
                )
                for row in rows
            }

    def get(self, content_id: str, kind: MediaKind) -> MediaFile | None:
        return self.of_content(content_id).get(kind)


def media_file(storage_key: str, media_type: str, size_bytes: int) -> MediaFile:
    """A file stored now."""
    return MediaFile(storage_key, media_type, size_bytes, utcnow())
