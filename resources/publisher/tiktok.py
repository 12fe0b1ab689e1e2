"""TikTok through the Content Posting API, as TikTok for Developers documents it.

One publication is:

1. ``creator_info/query`` — the privacy levels this creator may post with (the channel's
   privacy, or the nearest more private level allowed; never a more public one) and the longest
   video they may post (a longer video is refused before anything is sent);
2. ``video/init`` (Direct Post, ``post_info`` with ``is_aigc``: these videos are generated) or
   ``inbox/video/init`` (a draft in the creator's inbox), per the channel's ``post_mode``, with
   ``FILE_UPLOAD`` (chunks as the media transfer guide lays them out, ``chunk_plan``) or
   ``PULL_FROM_URL`` (the request's presigned storage URL, when the channel asks for it);
3. the ``publish_id`` is saved in the upload journal before any byte is sent; then the chunks
   go up in order by ``PUT`` with ``Content-Range``;
4. ``status/fetch`` is polled until ``PUBLISH_COMPLETE`` / ``SEND_TO_USER_INBOX`` (the post id
   and URL are saved) or ``FAILED`` (its ``fail_reason`` is the error).

A later attempt that finds a ``publish_id`` in the journal asks ``status/fetch`` instead of
starting again; an upload cut short is continued from the ``uploaded_bytes`` TikTok reports,
while its upload URL lives (an hour). A ``FAILED`` publish made no video: it is moved to
``failed_publish_ids`` so that publishing again starts a new one.

TikTok's endpoints, their rate limits and back-off are in ``tiktok_api.py``; the account's access
token, refreshed and rotated under its ``TokenStore`` lock, in ``tiktok_oauth.py``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr

from autoclip_core.render.probe import CorruptMediaError, probe
from autoclip_core.schemas import PublishReceipt
from resources.errors import PublishError, ReconnectRequired
from resources.publisher.base import (
    ChannelAccount,
    PublisherResource,
    PublishRequest,
    TokenStore,
    UploadJournal,
    VideoStats,
)
from resources.publisher.tiktok_api import TikTokAPI, TikTokError
from resources.publisher.tiktok_oauth import AccountTokens

# The media transfer guide's "MB" is read as the stricter of 10^6 and 2^20 on each side.
MIN_CHUNK = 5 * 1024 * 1024
MAX_CHUNK = 64_000_000
MAX_CHUNKS = 1000
UPLOAD_URL_TTL_S = 3600
"""The upload URL is valid for an hour after init."""

PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY")
"""From the most public to the most private."""
PRIVACY_FOR = {
    "public": "PUBLIC_TO_EVERYONE",
    "unlisted": "MUTUAL_FOLLOW_FRIENDS",
    "private": "SELF_ONLY",
}
DONE = frozenset({"PUBLISH_COMPLETE", "SEND_TO_USER_INBOX"})
STATS_FIELDS = "id,title,create_time,share_url,view_count,like_count,comment_count,share_count"

Mode = Literal["direct", "inbox"]


@dataclass(frozen=True)
class ChunkPlan:
    video_size: int
    chunk_size: int
    total_chunk_count: int

    def source_info(self) -> dict[str, Any]:
        return {
            "source": "FILE_UPLOAD",
            "video_size": self.video_size,
            "chunk_size": self.chunk_size,
            "total_chunk_count": self.total_chunk_count,
        }

    def byte_range(self, index: int) -> tuple[int, int]:
        """First and last byte of chunk ``index``; the last chunk takes the trailing bytes."""
        first = index * self.chunk_size
        if index == self.total_chunk_count - 1:
            return first, self.video_size - 1
        return first, first + self.chunk_size - 1


def chunk_plan(video_size: int, preferred_chunk: int = 10_000_000) -> ChunkPlan:
    """The media transfer guide's chunking: chunks of 5–64 MB, as many as ``video_size //
    chunk_size`` with the last one taking the remainder (so it may be up to twice as big), at
    most 1000; a video that fits in one chunk goes whole."""
    if video_size <= 0:
        raise PublishError("an empty video cannot be uploaded to TikTok")
    chunk = min(max(preferred_chunk, MIN_CHUNK), MAX_CHUNK)
    if video_size < 2 * chunk and video_size <= MAX_CHUNK:
        return ChunkPlan(video_size, video_size, 1)
    chunk = max(chunk, math.ceil(video_size / MAX_CHUNKS))
    if chunk > MAX_CHUNK:
        raise PublishError(f"{video_size} bytes is more than TikTok's 1000 chunks of 64 MB")
    return ChunkPlan(video_size, chunk, video_size // chunk)


def choose_privacy(wanted: str, allowed: list[str]) -> str:
    """``wanted`` (a privacy level) when the creator may use it, else the nearest more private
    level they may use; never a more public one."""
    for level in PRIVACY_LEVELS[PRIVACY_LEVELS.index(wanted) :]:
        if level in allowed:
            return level
    raise PublishError(
        f"TikTok allows this creator only {', '.join(allowed) or 'no privacy level'}: none is "
        f"as private as {wanted}",
        retryable=False,
    )


class TikTokPublisher(PublisherResource):
    """Publishes to TikTok accounts (``account.tokens``) of one TikTok app."""

    client_key: str
    client_secret: str = Field(repr=False)
    base_url: str = "https://open.tiktokapis.com"
    chunk_size: int = Field(default=10_000_000, description="Preferred bytes per chunk.")
    poll_interval_s: float = Field(default=5.0, description="Between status polls (30/min).")
    poll_timeout_s: float = Field(default=900.0, description="How long to poll one attempt.")
    timeout_s: float = 60.0
    attempts: int = 5
    max_wait_s: float = Field(default=900.0, description="Rate-limit waiting per call.")

    _sleep: Callable[[float], None] = PrivateAttr(default=time.sleep)
    _clock: Callable[[], float] = PrivateAttr(default=time.time)

    def on_clock(
        self, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> TikTokPublisher:
        """This publisher with another clock (tests: a fake one shared with the fake TikTok)."""
        self._clock, self._sleep = clock, sleep
        return self

    def api(self, tokens: TokenStore | None = None) -> TikTokAPI:
        api = TikTokAPI(
            self.base_url,
            client_key=self.client_key,
            client_secret=self.client_secret,
            timeout_s=self.timeout_s,
            attempts=self.attempts,
            max_wait_s=self.max_wait_s,
            sleep=self._sleep,
            clock=self._clock,
        )
        return AccountTokens.serving(api, tokens) if tokens is not None else api

    @contextmanager
    def session(self, account: ChannelAccount) -> Iterator[TikTokAPI]:
        """The API for ``account``, closed afterwards."""
        if account.tokens is None:
            raise ReconnectRequired(f"tiktok: channel {account.slug} has no TikTok tokens")
        api = self.api(account.tokens)
        try:
            yield api
        finally:
            api.close()

    def publish(
        self, request: PublishRequest, account: ChannelAccount, journal: UploadJournal
    ) -> PublishReceipt:
        with self.session(account) as api:
            return _Publication(self, api, request, account, journal).run()

    def video_stats(
        self, content_id: str, receipt: PublishReceipt, account: ChannelAccount
    ) -> VideoStats:
        with self.session(account) as api:
            post_id = receipt.platform_id or ""
            if not post_id.isdigit():
                post_id = _post_id(api.status(post_id)) if post_id else ""
            if not post_id:
                raise PublishError(
                    f"tiktok: {content_id} has no public post on {account.slug} (a private or "
                    "inbox post has no post id TikTok's video/query could be asked with)"
                )
            data = api.call(
                "/v2/video/query/",
                {"filters": {"video_ids": [post_id]}},
                params={"fields": STATS_FIELDS},
            )
        video = next((v for v in data.get("videos") or [] if str(v.get("id")) == post_id), None)
        if video is None:
            raise PublishError(f"tiktok: post {post_id} of {content_id} is not on TikTok")
        created = video.get("create_time")
        return VideoStats(
            channel=receipt.channel,
            content_id=content_id,
            url=str(video.get("share_url") or receipt.url),
            published_at=datetime.fromtimestamp(int(created), UTC) if created else None,
            views=int(video.get("view_count") or 0),
            likes=int(video.get("like_count") or 0),
            comments=int(video.get("comment_count") or 0),
            shares=int(video.get("share_count") or 0),
            captured_at=datetime.now(UTC),
        )


def _post_id(status: dict[str, Any]) -> str:
    ids = status.get("publicaly_available_post_id") or status.get("publicly_available_post_id")
    return str(ids[0]) if ids else ""


class _Publication:
    """One attempt at publishing ``request`` on ``account``."""

    def __init__(
        self,
        publisher: TikTokPublisher,
        api: TikTokAPI,
        request: PublishRequest,
        account: ChannelAccount,
        journal: UploadJournal,
    ) -> None:
        self.publisher = publisher
        self.api = api
        self.request = request
        self.account = account
        self.journal = journal

    def run(self) -> PublishReceipt:
        state = self.journal.load()
        if state.get("platform_id"):
            return self._receipt(state)
        try:
            if state.get("publish_id"):
                return self._resume(state)
            return self._start()
        except TikTokError as error:
            if error.code == "scope_not_authorized":
                assert self.account.tokens is not None
                self.account.tokens.reconnect_required(str(error))
                raise ReconnectRequired(
                    f"tiktok: the account did not grant what publishing needs: {error}"
                ) from error
            raise

    def _start(self) -> PublishReceipt:
        settings = self.account.settings
        creator = self.api.creator_info()
        duration = _duration_s(self.request.video)
        limit = creator.max_video_post_duration_sec
        if limit and duration > limit:
            raise PublishError(
                f"tiktok: the video is {duration:.1f} s long; this creator may post at most "
                f"{limit} s",
                retryable=False,
            )
        mode: Mode = settings.post_mode
        video_size = self.request.video.stat().st_size
        pull = settings.tiktok_source == "url" and bool(self.request.video_url)
        plan = None if pull else chunk_plan(video_size, self.publisher.chunk_size)
        source_info = (
            {"source": "PULL_FROM_URL", "video_url": self.request.video_url}
            if plan is None
            else plan.source_info()
        )
        body: dict[str, Any] = {"source_info": source_info}
        privacy = None
        if mode == "direct":
            privacy = choose_privacy(
                PRIVACY_FOR[settings.effective_privacy], creator.privacy_level_options
            )
            body["post_info"] = {
                "title": _caption(self.request),
                "privacy_level": privacy,
                "disable_comment": creator.comment_disabled,
                "disable_duet": creator.duet_disabled,
                "disable_stitch": creator.stitch_disabled,
                "brand_content_toggle": False,
                "brand_organic_toggle": False,
                "is_aigc": True,
            }
        path = (
            "/v2/post/publish/video/init/"
            if mode == "direct"
            else "/v2/post/publish/inbox/video/init/"
        )
        # A pull starts with the init itself: an init whose answer was lost may have started
        # one, so only a refusal (429, 503) is tried again.
        data = self.api.call(path, body, retry_faults=plan is not None)
        publish_id = str(data.get("publish_id") or "")
        if not publish_id:
            raise TikTokError(f"tiktok: {path} answered without a publish_id", retryable=True)
        state: dict[str, Any] = {
            "publish_id": publish_id,
            "mode": mode,
            "source": source_info["source"],
            "privacy_level": privacy,
            "creator_username": creator.username,
            "initiated_at": self.api.clock(),
        }
        if plan is not None:
            state |= {
                "upload_url": str(data.get("upload_url") or ""),
                "video_size": plan.video_size,
                "chunk_size": plan.chunk_size,
                "total_chunk_count": plan.total_chunk_count,
            }
            if not state["upload_url"]:
                raise TikTokError(f"tiktok: {path} answered without an upload_url", retryable=True)
        self.journal.save(**state)
        if plan is not None:
            self._upload(state, plan, 0)
        return self._await(state)

    def _resume(self, state: dict[str, Any]) -> PublishReceipt:
        if state.get("source") == "FILE_UPLOAD":
            status = self.api.status(state["publish_id"])
            uploaded = int(status.get("uploaded_bytes") or 0)
            if status.get("status") == "PROCESSING_UPLOAD" and uploaded < state["video_size"]:
                self._continue(state, uploaded)
        return self._await(state)

    def _continue(self, state: dict[str, Any], uploaded: int) -> None:
        """Send what an earlier attempt did not, from the chunk TikTok has not got."""
        if self.api.clock() - float(state["initiated_at"]) >= UPLOAD_URL_TTL_S:
            self._abandon(
                state,
                f"its upload URL expired with {uploaded} of {state['video_size']} bytes sent",
                retryable=True,
            )
        plan = ChunkPlan(state["video_size"], state["chunk_size"], state["total_chunk_count"])
        self._upload(state, plan, uploaded // plan.chunk_size)

    def _upload(self, state: dict[str, Any], plan: ChunkPlan, start: int) -> None:
        index = start
        with self.request.video.open("rb") as video:
            while index < plan.total_chunk_count:
                first, last = plan.byte_range(index)
                video.seek(first)
                data = video.read(last - first + 1)
                answer = self.api.put_chunk(state["upload_url"], data, first, last, plan.video_size)
                if answer in (200, 201, 206):
                    index += 1
                    continue
                if answer == 416:
                    # Out of step (a chunk that arrived although its answer was lost): go on
                    # from what TikTok says it has.
                    index = self._resync(state, plan, index)
                    continue
                what = {403: "the upload URL expired", 404: "TikTok does not know the upload"}
                raise TikTokError(
                    f"tiktok: upload of chunk {index + 1}/{plan.total_chunk_count}: HTTP "
                    f"{answer}: {what.get(answer, 'refused')}",
                    retryable=answer not in (400, 403, 404),
                )

    def _resync(self, state: dict[str, Any], plan: ChunkPlan, index: int) -> int:
        uploaded = int(self.api.status(state["publish_id"]).get("uploaded_bytes") or 0)
        if uploaded >= plan.video_size:
            return plan.total_chunk_count
        if uploaded % plan.chunk_size or uploaded // plan.chunk_size == index:
            raise TikTokError(
                f"tiktok: TikTok refused chunk {index + 1} as out of order and holds "
                f"{uploaded} bytes",
                retryable=False,
            )
        return uploaded // plan.chunk_size

    def _await(self, state: dict[str, Any]) -> PublishReceipt:
        deadline = self.api.clock() + self.publisher.poll_timeout_s
        while True:
            status = self.api.status(state["publish_id"])
            name = str(status.get("status", ""))
            if name in DONE:
                post_id = _post_id(status)
                done = {
                    "status": name,
                    "platform_id": post_id or state["publish_id"],
                    "url": _url(state.get("creator_username", ""), post_id),
                    "published_at": self.api.now().isoformat(),
                }
                self.journal.save(**done)
                return self._receipt(state | done)
            if name == "FAILED":
                self._abandon(state, str(status.get("fail_reason") or "no reason given"))
            if self.api.clock() >= deadline:
                raise TikTokError(
                    f"tiktok: publish {state['publish_id']} still {name} after "
                    f"{self.publisher.poll_timeout_s:.0f} s; the next attempt asks again",
                    retryable=True,
                )
            self.api.sleep(self.publisher.poll_interval_s)

    def _abandon(self, state: dict[str, Any], reason: str, *, retryable: bool = False) -> None:
        """The publish cannot become a video: set it aside so that the next publication starts
        a new one, and raise why."""
        failed = [*self.journal.load().get("failed_publish_ids", []), state["publish_id"]]
        self.journal.save(publish_id=None, failed_publish_ids=failed, status="FAILED")
        raise TikTokError(
            f"tiktok: publish {state['publish_id']} failed: {reason}",
            code=reason if not retryable else "",
            retryable=retryable,
        )

    def _receipt(self, state: dict[str, Any]) -> PublishReceipt:
        published = state.get("published_at")
        return PublishReceipt(
            channel=self.request.channel,
            url=str(state.get("url") or _url(state.get("creator_username", ""), "")),
            published_at=datetime.fromisoformat(published) if published else self.api.now(),
            platform_id=str(state["platform_id"]),
        )


def _url(username: str, post_id: str) -> str:
    profile = f"https://www.tiktok.com/@{username}"
    return f"{profile}/video/{post_id}" if post_id else profile


def _caption(request: PublishRequest) -> str:
    """Title, description (it carries the credits a licence asks for) and the hashtags TikTok
    links, within the 2200 UTF-16 code units a caption holds."""
    tags = " ".join(f"#{t.lstrip('#')}" for t in request.hashtags if t.strip("#"))
    parts = [request.title.strip(), request.description.strip(), tags]
    caption = "\n\n".join(p for p in parts if p)
    return caption.encode("utf-16-le")[: 2 * 2200].decode("utf-16-le", errors="ignore")


def _duration_s(video: Path) -> float:
    try:
        return probe(video).duration
    except CorruptMediaError as exc:
        raise PublishError(f"tiktok: {exc}", retryable=False) from exc
