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
from autoclip_core.db.models import ContentItem, ContentMedia, utcnow
from autoclip_core.db.projects import PROJECTS, ProjectRepository

MediaKind = Literal["video", "thumbnail", "audio", "captions"]
MEDIA_KINDS: tuple[MediaKind, ...] = ("video", "thumbnail", "audio", "captions")


@dataclass(frozen=True)
class MediaFile:
    storage_key: str
    media_type: str
    size_bytes: int
    created_at: datetime

    @classmethod
    def of(cls, row: ContentMedia) -> MediaFile:
        return cls(row.storage_key, row.media_type, row.size_bytes, aware(row.created_at))


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
            return {row.kind: MediaFile.of(row) for row in rows}  # type: ignore[misc]

    def get(self, content_id: str, kind: MediaKind) -> MediaFile | None:
        return self.of_content(content_id).get(kind)

    def readable(
        self, org_id: str | None, content_id: str, kind: MediaKind
    ) -> tuple[bool, MediaFile | None]:
        """Whether organisation ``org_id`` may read the item (its project's tenant scope),
        and the item's file of ``kind`` if one is recorded."""
        projects = ProjectRepository.get_readable_statement(org_id, PROJECTS.c.id)
        with self._session() as s:
            item = s.scalar(
                select(ContentItem.id).where(
                    ContentItem.id == content_id, ContentItem.project_id.in_(projects)
                )
            )
            if item is None:
                return False, None
            row = s.get(ContentMedia, (content_id, kind))
            if row is None:
                return True, None
            return True, MediaFile.of(row)


def media_file(storage_key: str, media_type: str, size_bytes: int) -> MediaFile:
    """A file stored now."""
    return MediaFile(storage_key, media_type, size_bytes, utcnow())
