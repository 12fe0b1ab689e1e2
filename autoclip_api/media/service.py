"""A content item's media, served as a browser's ``<video>`` and ``<track>`` need them.

Which stored file is an item's video, thumbnail, narration or captions is recorded by the
pipeline (``autoclip_core.db.media``). Files are sent with ``Accept-Ranges: bytes``: a single
range (``bytes=a-b``, ``bytes=a-``, ``bytes=-n``) is answered 206 with exactly those bytes, a
range that starts past the end 416 with ``Content-Range: bytes */<size>``, a syntactically
invalid or multi-part ``Range`` the whole file (RFC 9110 §14.2 lets a server ignore it). The
``ETag`` is strong and derived from the content-addressed storage key, so it changes exactly
when the file does; ``If-None-Match``/``If-Modified-Since`` answer 304 and ``If-Range``
guards a resumed download. Captions are converted to WebVTT from the narration's phrases.
With S3 storage (``AUTOCLIP_STORAGE_PROVIDER=s3``) the API hands out a presigned URL of the
object instead (307): the bucket serves the bytes, ranges and validators.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy.orm import Session

from autoclip_api.auth.subject import AuthSubject
from autoclip_api.core.errors import NotFound, ServiceUnavailable
from autoclip_core import s3
from autoclip_core.db.media import MediaFile, MediaKind, MediaRepository
from autoclip_core.settings import Settings

logger = logging.getLogger("autoclip_api.media")

CONTENT_NOT_FOUND = "Content not found"
CONTENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
CHUNK_BYTES = 256 * 1024
VTT_TYPE = "text/vtt; charset=utf-8"
CACHE_CONTROL = "private"
_RANGE = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


class RangeNotSatisfiable(Exception):
    """The range starts at or past the end of the file."""


@dataclass(frozen=True)
class Media:
    """One file to send: on disk (``path``) or made here (``body``, the captions)."""

    media_type: str
    size: int
    etag: str
    last_modified: datetime
    path: Path | None = None
    body: bytes | None = None

    def read(self, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` inclusive."""
        if self.body is not None:
            yield self.body[start : end + 1]
            return
        assert self.path is not None
        with self.path.open("rb") as f:
            f.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = f.read(min(CHUNK_BYTES, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one range (first, last byte, inclusive) a ``Range`` header asks for; None to send
    the whole file (no header, another unit, several ranges, or invalid syntax).
    ``RangeNotSatisfiable`` when it asks for nothing inside the file."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _RANGE.match(spec)
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":  # the last n bytes
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(size - length, 0), size - 1
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable
    return start, min(int(last) if last else size - 1, size - 1)


def _vtt_time(seconds: float) -> str:
    millis = round(max(seconds, 0.0) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def webvtt(cues: list[Mapping[str, Any]]) -> str:
    """WebVTT of caption cues (``text``, ``start``, ``end`` in seconds), one block each."""
    blocks = ["WEBVTT"]
    for n, cue in enumerate(cues, 1):
        text = " ".join(str(cue["text"]).split())
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        start, end = float(cue["start"]), float(cue["end"])
        blocks.append(f"{n}\n{_vtt_time(start)} --> {_vtt_time(max(end, start))}\n{text}")
    return "\n\n".join(blocks) + "\n"


def etag_of(storage_key: str, variant: str = "") -> str:
    return '"' + hashlib.sha256(f"{storage_key}\x00{variant}".encode()).hexdigest()[:32] + '"'


def http_date(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC).replace(microsecond=0), usegmt=True)


def not_modified(media: Media, headers: Mapping[str, str]) -> bool:
    """Whether the client's cached copy is current (RFC 9110 §13.1.2 and §13.1.3)."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or media.etag in tags
    since = _parse_date(headers.get("if-modified-since"))
    return since is not None and media.last_modified.replace(microsecond=0) <= since


def range_applies(media: Media, if_range: str | None) -> bool:
    """``If-Range``: the range only if the file is still the one the client has part of."""
    if if_range is None:
        return True
    if if_range.strip().startswith('"'):
        return if_range.strip() == media.etag
    date = _parse_date(if_range)
    return date is not None and media.last_modified.replace(microsecond=0) == date


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class MediaService:
    def find(
        self, session: Session, subject: AuthSubject, settings: Settings, content_id: str,
        kind: MediaKind,
    ) -> Media | str:  # fmt: skip
        """The item's file of ``kind``: 404 for another organisation's item (as for a missing
        one), and for an item whose file is not made yet. With S3 storage, a presigned URL
        of the file instead (the bucket serves ranges and caching itself), except for the
        captions, which are converted here."""
        record = self._record(session, subject, content_id, kind)
        if settings.storage_provider == "s3":
            return self._from_s3(settings, content_id, kind, record.storage_key)
        path = self._path(settings.media_dir, record.storage_key)
        if path is None:
            raise self._gone(content_id, kind, record.storage_key)
        stat = path.stat()
        modified = datetime.fromtimestamp(stat.st_mtime, UTC)
        if kind == "captions":
            return self._captions(record.storage_key, path.read_bytes(), modified)
        return Media(
            record.media_type, stat.st_size, etag_of(record.storage_key), modified, path=path
        )

    @staticmethod
    def _record(
        session: Session, subject: AuthSubject, content_id: str, kind: MediaKind
    ) -> MediaFile:
        if not CONTENT_ID.match(content_id):
            raise NotFound(CONTENT_NOT_FOUND)
        readable, record = MediaRepository(session).readable(subject.org_id, content_id, kind)
        if not readable:
            raise NotFound(CONTENT_NOT_FOUND)
        if record is None:
            raise NotFound(f"No {kind} for this content yet")
        return record

    @staticmethod
    def _gone(content_id: str, kind: MediaKind, key: str) -> NotFound:
        logger.warning(
            "media file missing from storage content=%s kind=%s key=%s", content_id, kind, key
        )
        return NotFound(f"The {kind} file is no longer stored")

    @staticmethod
    def _captions(key: str, stored: bytes, modified: datetime) -> Media:
        body = webvtt(json.loads(stored)["cues"]).encode()
        return Media(VTT_TYPE, len(body), etag_of(key, "vtt"), modified, body=body)

    def _from_s3(
        self, settings: Settings, content_id: str, kind: MediaKind, key: str
    ) -> Media | str:
        bucket = settings.s3_bucket or ""
        bucket_client = s3_client(settings.s3_endpoint_url)
        try:
            if kind != "captions":
                return s3.presigned_get(bucket_client, bucket, key, settings.s3_presign_seconds)
            stored = bucket_client.get_object(Bucket=bucket, Key=key)
            return self._captions(key, stored["Body"].read(), stored["LastModified"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise self._gone(content_id, kind, key) from exc
            logger.warning("media storage failed content=%s kind=%s: %s", content_id, kind, exc)
            raise ServiceUnavailable("The media storage is not answering") from exc
        except BotoCoreError as exc:
            logger.warning("media storage failed content=%s kind=%s: %s", content_id, kind, exc)
            raise ServiceUnavailable("The media storage is not answering") from exc

    @staticmethod
    def _path(media_root: Path, storage_key: str) -> Path | None:
        root = media_root.resolve()
        path = (root / storage_key).resolve()
        if root not in path.parents or not path.is_file():
            return None
        return path


def remove_stored(settings: Settings, keys: list[str]) -> None:
    """Deletes these storage keys' files (a deleted item's media no other item shares): the
    objects of the bucket with S3 storage, else the files inside the media folder. A store
    that fails is logged, not raised: the item is gone either way, and what is left behind is
    content-addressed, so it is only space."""
    if not keys:
        return
    if settings.storage_provider == "s3":
        try:
            answer = s3_client(settings.s3_endpoint_url).delete_objects(
                Bucket=settings.s3_bucket or "",
                Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
            )
        except (BotoCoreError, ClientError) as exc:
            logger.warning("media of a deleted item left in the bucket: %s", exc)
            return
        for error in answer.get("Errors", []):
            logger.warning("media left in the bucket: %s (%s)", error.get("Key"), error.get("Code"))
        return
    for key in keys:
        path = MediaService._path(settings.media_dir, key)
        if path is not None:
            path.unlink(missing_ok=True)


@functools.cache
def s3_client(endpoint_url: str | None) -> Any:
    """One client per process (boto3 clients are thread-safe and refresh their credentials)."""
    return s3.client(endpoint_url)


media_service = MediaService()
