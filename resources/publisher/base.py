from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from pathlib import Path

import dagster as dg
from pydantic import BaseModel

from autoclip_core.schemas import Language


class PublishRequest(BaseModel):
    content_id: str
    channel: str
    video: Path
    thumbnail: Path
    title: str
    description: str
    hashtags: list[str]
    language: Language


class PublishReceipt(BaseModel):
    url: str
    published_at: datetime


class PublishError(RuntimeError):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class PublisherResource(dg.ConfigurableResource, ABC):
    @abstractmethod
    def publish(self, request: PublishRequest) -> PublishReceipt: ...
