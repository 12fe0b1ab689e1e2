"""YouTube: a video published through the Data API v3's resumable upload, as Google documents
it ("YouTube Data API - Resumable Uploads"), over plain HTTP (httpx).

1. ``POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`` with the video
   resource (snippet: title, description, tags, categoryId, defaultLanguage,
   defaultAudioLanguage; status: privacyStatus, publishAt, selfDeclaredMadeForKids,
   containsSyntheticMedia — our videos are AI-generated) and ``X-Upload-Content-Length`` /
   ``-Type``. The answer's ``Location`` is the session URI, saved in the upload journal
   before any byte is sent: a later attempt, even from another process, resumes it.
2. ``PUT`` the bytes in chunks of ``chunk_size`` (a multiple of 256 KiB, Google's rule for
   every chunk but the last) with ``Content-Range: bytes FIRST-LAST/TOTAL``. ``308 Resume
   Incomplete`` carries ``Range: bytes=0-N``: the next chunk starts at N+1, whatever was sent.
3. After a cut connection, a timeout or a 500/502/503/504 the client asks where the upload
   stands (``PUT`` with ``Content-Range: bytes */TOTAL`` and no body) and resumes from the
   308's ``Range``; the waits in between grow exponentially and are bounded, and the count of
   failures starts again whenever bytes get through. A session Google no longer knows (404,
   410) is replaced by a new one. ``201``/``200`` carries the video resource: its id is saved.
4. ``POST /upload/youtube/v3/thumbnails/set?videoId=…`` with the thumbnail image.

The channel's tokens, the retries and Google's refusals (quota, upload limit) are
``youtube_api.py``'s.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import httpx
from pydantic import Field, PrivateAttr, field_validator

from autoclip_core.schemas import PublishReceipt
from resources.errors import PublishError, ReconnectRequired
from resources.publisher.base import (
    ChannelAccount,
    PublisherResource,
    PublishRequest,
    UploadJournal,
    VideoStats,
)
from resources.publisher.google_oauth import CHANNELS_MINE, GoogleOAuth, YouTubeChannel
from resources.publisher.youtube_api import JSON_TYPE, Passing, YouTubeSession, json_body, passed
from resources.vendors.http import RetryPolicy

CHUNK_UNIT = 256 * 1024
MAX_TITLE_CHARS = 100
MAX_DESCRIPTION_BYTES = 5000
MAX_TAGS_CHARS = 500
_RANGE = re.compile(r"bytes=0-(\d+)$")


class _SessionGone(Exception):
    """The resumable session is unknown to Google (expired or never finished)."""


@dataclass
class UploadProgress:
    """What one upload took: the evidence that interrupted uploads resume instead of
    restarting (also saved in the journal with the video id)."""

    size: int
    bytes_put: int = 0
    """Bytes in this attempt's PUT bodies; a chunk whose connection was cut counts whole,
    although only part of it left (the platform's side knows how much arrived)."""
    resumed_from: list[int] = field(default_factory=list)
    """The offsets the upload went on from after each interruption (the 308's Range)."""


def video_resource(request: PublishRequest, account: ChannelAccount) -> dict[str, Any]:
    """The snippet and status ``videos.insert`` is started with, within YouTube's limits."""
    settings = account.settings
    privacy = settings.effective_privacy
    status: dict[str, Any] = {
        "privacyStatus": privacy,
        "selfDeclaredMadeForKids": settings.made_for_kids,
        "containsSyntheticMedia": True,
    }
    # publishAt makes a private video public at that moment: only where public is allowed
    if request.publish_at is not None and settings.audited:
        status["privacyStatus"] = "private"
        status["publishAt"] = (
            request.publish_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        )
    return {
        "snippet": {
            "title": _title(request.title),
            "description": _description(request.description),
            "tags": _tags(request.hashtags),
            "categoryId": settings.category_id,
            "defaultLanguage": request.language,
            "defaultAudioLanguage": request.language,
        },
        "status": status,
    }


def _title(title: str) -> str:
    # YouTube refuses angle brackets in titles and descriptions (invalidTitle/Description)
    clean = " ".join(title.replace("<", "‹").replace(">", "›").split())
    return clean[:MAX_TITLE_CHARS] or "Untitled"


def _description(description: str) -> str:
    clean = description.replace("<", "‹").replace(">", "›")
    return clean.encode()[:MAX_DESCRIPTION_BYTES].decode(errors="ignore")


def _tags(hashtags: list[str]) -> list[str]:
    """Hashtags as tags without '#', as many as fit YouTube's 500 characters (commas between
    tags count, and the quotes YouTube puts around a tag with a space)."""
    tags: list[str] = []
    used = 0
    for raw in hashtags:
        tag = raw.lstrip("#").strip()
        if not tag or tag in tags:
            continue
        cost = len(tag) + (2 if " " in tag else 0) + (1 if tags else 0)
        if used + cost > MAX_TAGS_CHARS:
            break
        tags.append(tag)
        used += cost
    return tags


class YouTubePublisher(PublisherResource):
    """Publishes to the YouTube channel of the account's OAuth tokens."""

    base_url: str = "https://www.googleapis.com"
    """The origin of ``/youtube/v3/…`` and ``/upload/youtube/v3/…``."""
    oauth_base_url: str = "https://oauth2.googleapis.com"
    client_id: str
    client_secret: str = Field(repr=False)
    chunk_size: int = Field(default=32 * CHUNK_UNIT, gt=0)
    """Bytes per PUT: a multiple of 256 KiB (8 MiB by default)."""
    timeout_s: float = 60.0
    attempts: int = Field(default=8, ge=1)
    """Tries of one step without progress (a chunk, a call) before the error is raised."""
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    _sleep: Callable[[float], None] | None = PrivateAttr(default=None)
    _now: Callable[[], datetime] | None = PrivateAttr(default=None)

    @field_validator("chunk_size")
    @classmethod
    def _whole_units(cls, value: int) -> int:
        if value % CHUNK_UNIT:
            raise ValueError(f"chunk_size must be a multiple of {CHUNK_UNIT} bytes, got {value}")
        return value

    # -- the publisher --------------------------------------------------------------------

    def publish(
        self, request: PublishRequest, account: ChannelAccount, journal: UploadJournal
    ) -> PublishReceipt:
        with self.session(account) as api:
            state = journal.load()
            video_id = state.get("platform_id")
            if not video_id:
                upload = ResumableUpload(api, self.chunk_size)
                resource, progress = upload.upload(request, account, journal, state)
                video_id = str(resource["id"])
                journal.save(
                    platform_id=video_id,
                    url=watch_url(video_id),
                    published_at=resource.get("snippet", {}).get("publishedAt"),
                    bytes_put=progress.bytes_put,
                    resumed_from=progress.resumed_from,
                )
                state = journal.load()
            if not state.get("thumbnail"):
                try:
                    api.set_thumbnail(video_id, request.thumbnail)
                except PublishError as refused:
                    if refused.retryable or isinstance(refused, ReconnectRequired):
                        raise
                    # the video is up; an image YouTube will not take must not undo that
                    journal.save(thumbnail=f"refused: {refused}")
                else:
                    journal.save(thumbnail="set")
        published_at = state.get("published_at")
        return PublishReceipt(
            channel=request.channel,
            url=watch_url(video_id),
            published_at=_timestamp(published_at) if published_at else datetime.now(UTC),
            platform_id=video_id,
        )

    def video_stats(
        self, content_id: str, receipt: PublishReceipt, account: ChannelAccount
    ) -> VideoStats:
        if not receipt.platform_id:
            raise PublishError(f"{content_id}: the receipt has no YouTube video id")
        with self.session(account) as api:
            body = api.call(
                "GET",
                "/youtube/v3/videos",
                "videos.list",
                params={"part": "statistics", "id": receipt.platform_id},
            )
        items = body.get("items") or []
        if not items:
            raise PublishError(
                f"{content_id}: YouTube has no video {receipt.platform_id} on {receipt.channel}"
            )
        numbers = items[0].get("statistics") or {}
        return VideoStats(
            channel=receipt.channel,
            content_id=content_id,
            url=receipt.url,
            published_at=receipt.published_at,
            views=int(numbers.get("viewCount", 0)),
            likes=int(numbers.get("likeCount", 0)),
            comments=int(numbers.get("commentCount", 0)),
            captured_at=datetime.now(UTC),
        )

    def channel_identity(self, account: ChannelAccount) -> dict[str, str]:
        """The authorised channel: ``id``, ``title`` and ``custom_url`` (``channels.list``)."""
        with self.session(account) as api:
            body = api.call("GET", "/youtube/v3/channels", "channels.list", params=CHANNELS_MINE)
        channel = YouTubeChannel.of(body)
        return {"id": channel.id, "title": channel.title, "custom_url": channel.custom_url}

    def waiting_with(
        self, sleep: Callable[[float], None], now: Callable[[], datetime] | None = None
    ) -> YouTubePublisher:
        """This publisher with another way to wait (and to tell the time): for tests and
        benches that must not sleep through the back-off."""
        self._sleep = sleep
        if now is not None:
            self._now = now
        return self

    def session(self, account: ChannelAccount) -> YouTubeSession:
        sleep = self._sleep or time.sleep
        now = self._now or _utc_now
        if account.tokens is None:
            raise PublishError(f"{account.slug}: a YouTube channel needs OAuth tokens")
        oauth = GoogleOAuth(
            base_url=self.oauth_base_url,
            client_id=self.client_id,
            client_secret=self.client_secret,
            timeout=self.timeout_s,
            policy=RetryPolicy(attempts=4, base=self.backoff_base_s, cap=self.backoff_cap_s),
            sleep=sleep,
            now=now,
        )
        return YouTubeSession(
            account,
            account.tokens,
            oauth,
            base_url=self.base_url,
            timeout_s=self.timeout_s,
            policy=RetryPolicy(
                attempts=self.attempts, base=self.backoff_base_s, cap=self.backoff_cap_s
            ),
            sleep=sleep,
            now=now,
        )


def _utc_now() -> datetime:
    return datetime.now(UTC)


def watch_url(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


def _timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class ResumableUpload:
    """The video's bytes through a resumable upload session of ``api``, ``chunk_size`` bytes a
    PUT."""

    def __init__(self, api: YouTubeSession, chunk_size: int) -> None:
        self.api = api
        self.chunk_size = chunk_size

    def upload(
        self,
        request: PublishRequest,
        account: ChannelAccount,
        journal: UploadJournal,
        state: dict[str, Any],
    ) -> tuple[dict[str, Any], UploadProgress]:
        """The video resource of the finished upload: the journal's session resumed when it has
        one for this file, a new session otherwise (and when Google forgot the old one)."""
        size = request.video.stat().st_size
        progress = UploadProgress(size=size)
        session_uri = state.get("session_uri") if state.get("session_size") == size else None
        if session_uri:
            try:
                return self.send_file(session_uri, request.video, size, None, progress), progress
            except _SessionGone:
                pass
        resource = video_resource(request, account)
        if account.quota is not None:
            account.quota.spend("videos.insert")
        session_uri = self.start_session(resource, size)
        journal.save(session_uri=session_uri, session_size=size)
        try:
            return self.send_file(session_uri, request.video, size, 0, progress), progress
        except _SessionGone:
            raise PublishError(
                "youtube: a new upload session was gone at once", retryable=True
            ) from None

    def start_session(self, resource: dict[str, Any], size: int) -> str:
        body = json.dumps(resource).encode()
        response = self.api.retried(
            "videos.insert",
            lambda: passed(
                self.api.send(
                    "POST",
                    f"{self.api.base}/upload/youtube/v3/videos",
                    "videos.insert",
                    params={"uploadType": "resumable", "part": "snippet,status"},
                    content=body,
                    headers={
                        "Content-Type": JSON_TYPE,
                        "X-Upload-Content-Length": str(size),
                        "X-Upload-Content-Type": "video/mp4",
                    },
                )
            ),
        )
        location = response.headers.get("location")
        if not location:
            raise PublishError(
                "youtube: videos.insert answered without a session URI", retryable=True
            )
        return location

    def send_file(
        self,
        session_uri: str,
        path: Path,
        size: int,
        offset: int | None,
        progress: UploadProgress,
    ) -> dict[str, Any]:
        """Send ``path`` from ``offset`` (None: ask the session first) to the end; the video
        resource. The failures allowed in a row start again whenever Google holds more bytes
        than before."""
        failures = 0
        interrupted = offset is None
        held = -1 if offset is None else offset  # the most Google has confirmed holding
        with path.open("rb") as media:
            while True:
                try:
                    outcome = self._step(session_uri, media, size, offset, progress)
                except (httpx.TransportError, Passing) as exc:
                    failure = str(exc) if isinstance(exc, Passing) else type(exc).__name__
                    failures += 1
                    if failures >= self.api.policy.attempts:
                        raise PublishError(
                            f"youtube: upload: {failure}, {failures} times without progress",
                            retryable=True,
                        ) from None
                    self.api.sleep(self.api.policy.backoff(failures - 1, random.random))
                    offset, interrupted = None, True
                    continue
                if isinstance(outcome, dict):
                    return outcome
                if interrupted:
                    progress.resumed_from.append(outcome)
                    interrupted = False
                if outcome > held:
                    failures, held = 0, outcome
                elif offset is not None:
                    failures += 1  # Google kept none of the chunk
                    if failures >= self.api.policy.attempts:
                        raise PublishError(
                            f"youtube: upload: no progress at byte {offset}", retryable=True
                        )
                offset = outcome

    def _step(
        self,
        session_uri: str,
        media: BinaryIO,
        size: int,
        offset: int | None,
        progress: UploadProgress,
    ) -> dict[str, Any] | int:
        """One PUT: the chunk at ``offset`` or, for None, the question how far the upload got.
        The video resource once complete, else the offset to go on from."""
        if offset is None:
            response = self.put(session_uri, b"", f"bytes */{size}")
        else:
            media.seek(offset)
            chunk = media.read(self.chunk_size)
            progress.bytes_put += len(chunk)
            response = self.put(
                session_uri, chunk, f"bytes {offset}-{offset + len(chunk) - 1}/{size}"
            )
        status = response.status_code
        if status in (200, 201):
            return json_body(response, "upload")  # a cut answer: ask again, it is kept
        if status in (404, 410):
            raise _SessionGone
        if status == 308:
            return _held(response)
        raise Passing(f"HTTP {status}")  # send() lets only 429/5xx through besides these

    def put(self, session_uri: str, chunk: bytes, content_range: str) -> httpx.Response:
        return self.api.send(
            "PUT",
            session_uri,
            "upload",
            content=chunk,
            headers={"Content-Type": "video/mp4", "Content-Range": content_range},
        )


def _held(response: httpx.Response) -> int:
    """The next byte to send after a 308: one past the ``Range`` end (0 without a Range)."""
    value = response.headers.get("range")
    if not value:
        return 0
    match = _RANGE.match(value.strip())
    if match is None:
        raise PublishError(f"youtube: upload: a 308 with a Range we cannot read: {value!r}")
    return int(match.group(1)) + 1
