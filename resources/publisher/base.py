"""The publisher capability: put a rendered video on a channel, and read back how it does."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from pathlib import Path

import dagster as dg
from pydantic import BaseModel, Field

from autoclip_core.schemas import Language, PublishReceipt


class PublishRequest(BaseModel):
    content_id: str
    channel: str
    video: Path
    thumbnail: Path
    title: str
    description: str
    hashtags: list[str]
    language: Language


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


class PublisherResource(dg.ConfigurableResource, ABC):
    """Channels to publish on. Failures raise ``PublishError``."""

    @abstractmethod
    def publish(self, request: PublishRequest) -> PublishReceipt: ...

    @abstractmethod
    def video_stats(self, content_id: str, receipt: PublishReceipt) -> VideoStats:
        """The numbers of the video ``receipt`` names; ``PublishError`` when the channel does
        not have it (``retryable`` when the channel could not be asked)."""
