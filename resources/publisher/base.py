"""The publisher capability: put a rendered video on a channel, and read back how it does.

A publisher is called once per (content item, channel) with three things:

- the ``PublishRequest`` (what to publish),
- the ``ChannelAccount`` (where: its platform, settings, OAuth tokens and quota), and
- the ``UploadJournal`` of this (item, channel) upload: what earlier attempts saved.

The contract every publisher keeps, so that an item is published at most once per channel
across step retries, re-runs, a second publish request and a process killed mid-upload:

1. ``journal.load()`` first. When it holds the platform's id of the video
   (``platform_id``), the upload happened: report it (``PublishReceipt`` with that id and
   URL, after finishing what may be left, e.g. the thumbnail), never upload again.
2. Whatever identifies the upload on the platform — a resumable session URI, a TikTok
   ``publish_id`` — is ``journal.save``d as soon as the platform hands it out and *before*
   any byte of the video is sent. ``save`` returns only once it is durable, so a crash at any
   later point leaves it for the next attempt, which resumes that upload instead of starting
   another.
3. The platform's video id is saved as ``platform_id`` the moment it is known.
4. Errors are ``PublishError``s: ``retryable`` for what the same call may survive (5xx,
   timeouts, network), ``QuotaExhausted`` when the platform's quota or rate limit says wait
   (``retry_after``: until the next window), ``ReconnectRequired`` when the account's
   authorisation is gone (after calling ``account.tokens.reconnect_required``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import dagster as dg
from pydantic import BaseModel, ConfigDict, Field

from autoclip_core.schemas import Language, PublishReceipt

Platform = Literal["local", "youtube", "tiktok"]


class PublishRequest(BaseModel):
    content_id: str
    channel: str
    video: Path
    thumbnail: Path
    title: str
    description: str
    hashtags: list[str]
    language: Language
    publish_at: datetime | None = Field(
        default=None, description="Scheduled publication (YouTube publishAt); None: at once."
    )
    video_url: str | None = Field(
        default=None,
        description="A presigned GET URL of the video when the storage gives one (TikTok "
        "PULL_FROM_URL); None: only the local file.",
    )


class VideoStats(BaseModel):
    """A published video's numbers on one channel, as the channel reports them now."""

    channel: str
    content_id: str
    url: str | None = None
    published_at: datetime | None = None
    views: int = Field(default=0, ge=0)
    likes: int = Field(default=0, ge=0)
    comments: int = Field(default=0, ge=0)
    shares: int = Field(default=0, ge=0)
    watch_time_s: float = Field(default=0.0, ge=0, description="Total watch time, seconds.")
    captured_at: datetime


# the account: settings, tokens, quota --------------------------------------------------------


class ChannelSettings(BaseModel):
    """How a channel publishes (the ``settings`` of its row; unknown keys are ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    privacy: Literal["private", "unlisted", "public"] = Field(
        default="private",
        description="YouTube privacyStatus; on TikTok public is PUBLIC_TO_EVERYONE and "
        "private SELF_ONLY (unlisted: MUTUAL_FOLLOW_FRIENDS), among creator_info's levels.",
    )
    audited: bool = Field(
        default=False,
        description="The platform has audited our API client. Unaudited YouTube API "
        "projects and TikTok clients may only post private videos: privacy is then private.",
    )
    made_for_kids: bool = Field(default=False, description="YouTube selfDeclaredMadeForKids.")
    category_id: str = Field(default="22", description="YouTube category (22: People & Blogs).")
    post_mode: Literal["direct", "inbox"] = Field(
        default="direct",
        description="TikTok: Direct Post, or upload to the creator's inbox as a draft.",
    )
    tiktok_source: Literal["file", "url"] = Field(
        default="file",
        description="TikTok: FILE_UPLOAD in chunks, or PULL_FROM_URL from the request's "
        "video_url (a presigned storage URL; FILE_UPLOAD when there is none).",
    )

    @property
    def effective_privacy(self) -> Literal["private", "unlisted", "public"]:
        return self.privacy if self.audited else "private"


@dataclass(frozen=True)
class OAuthTokens:
    access_token: str | None
    refresh_token: str | None
    expires_at: datetime | None
    """When the access token expires (aware); None: unknown, use it until refused."""

    def usable(self, now: datetime, margin: timedelta = timedelta(seconds=60)) -> bool:
        """The access token is there and will not expire within ``margin``."""
        if self.access_token is None:
            return False
        return self.expires_at is None or self.expires_at - margin > now


class TokenStore(ABC):
    """A channel's OAuth tokens, stored (encrypted) where every run of every process sees
    them. Refreshing goes through ``refreshing()``: the per-channel lock across processes,
    so that two runs never spend one refresh token (TikTok rotates them on every use)::

        tokens = store.current()
        if not tokens.usable(now):
            with store.refreshing() as tokens:      # the lock; tokens as stored NOW
                if not tokens.usable(now):          # another run may have refreshed
                    new = exchange(tokens.refresh_token)          # invalid_grant ->
                    store.save(access_token=..., refresh_token=..., expires_at=...)
            # on invalid_grant: store.reconnect_required(reason); raise ReconnectRequired
    """

    @abstractmethod
    def current(self) -> OAuthTokens:
        """The tokens as stored now (no lock)."""

    @abstractmethod
    def refreshing(self) -> AbstractContextManager[OAuthTokens]:
        """Hold the channel's refresh lock (other processes and threads wait) and yield the
        tokens as stored once it is held."""

    @abstractmethod
    def save(
        self, *, access_token: str, refresh_token: str | None, expires_at: datetime | None
    ) -> None:
        """Store refreshed tokens durably (``refresh_token`` None: keep the stored one). A
        rotated refresh token replaces the stored one, also one that came from settings."""

    @abstractmethod
    def reconnect_required(self, reason: str) -> None:
        """The authorisation is gone (``invalid_grant``, revoked): the channel becomes
        ``reconnect_required`` and the event is recorded for notifications."""


class QuotaLedger(ABC):
    """The platform quota this account's uploads spend (YouTube: units per API project per
    Pacific day). Publishers charge an operation before making the call."""

    @abstractmethod
    def spend(self, operation: str, count: int = 1) -> None:
        """Charge ``operation`` (``videos.insert``, ``thumbnails.set``, ``channels.list``…)
        ``count`` times, or raise ``QuotaExhausted`` (charging nothing) with ``retry_after``
        the time to the next window when that would pass today's quota."""

    @abstractmethod
    def exhausted(self, operation: str) -> None:
        """The platform refused ``operation`` for quota: nothing more of it today; raises
        ``QuotaExhausted`` with the wait until the next window."""


@dataclass(frozen=True)
class ChannelAccount:
    """One channel as a publisher sees it."""

    slug: str
    """The channel's publish target (the ``channel`` of requests and receipts)."""
    platform: Platform
    settings: ChannelSettings = field(default_factory=ChannelSettings)
    tokens: TokenStore | None = None
    """None for channels without OAuth (local)."""
    quota: QuotaLedger | None = None
    """None where we keep no ledger (local, TikTok: its rate limits answer 429)."""
    channel_id: str | None = None
    """The channel row's id; None for a local folder without one."""
    reconnect_required: bool = False
    """The platform refused the stored authorisation: uploads wait, the publisher is not
    called until the channel is connected again."""


class UploadJournal(ABC):
    """What earlier attempts of one (content item, channel) upload saved.

    Well-known keys: ``platform_id`` (the platform's video id) and ``url`` are also shown as
    the upload's id and URL; anything else is the publisher's own (``session_uri``,
    ``publish_id``…), kept as JSON.
    """

    @abstractmethod
    def load(self) -> dict[str, Any]:
        """Everything saved so far ({} on the first attempt)."""

    @abstractmethod
    def save(self, **values: Any) -> None:
        """Merge ``values`` (JSON-serialisable) into the journal and commit before returning."""


class PublisherResource(dg.ConfigurableResource, ABC):
    """Channels to publish on. Failures raise ``PublishError``; see the module's contract."""

    @abstractmethod
    def publish(
        self, request: PublishRequest, account: ChannelAccount, journal: UploadJournal
    ) -> PublishReceipt: ...

    @abstractmethod
    def video_stats(
        self, content_id: str, receipt: PublishReceipt, account: ChannelAccount
    ) -> VideoStats:
        """The numbers of the video ``receipt`` names; ``PublishError`` when the channel does
        not have it (``retryable`` when the channel could not be asked)."""
