from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from autoclip_api.core.types import (
    HTTP_URL,
    MULTI_LINE,
    SINGLE_LINE,
    ReadSchema,
    Schema,
    UtcDatetime,
)
from autoclip_core.ingest.config import LanguageCode, SourceSpec
from autoclip_core.ingest.state import SourceHealth
from autoclip_core.ingest.webhook import MAX_ITEMS_PER_PUSH

HttpUrlText = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=8, max_length=2048, pattern=HTTP_URL
    ),
]
SourceCreate = SourceSpec
"""The body of ``POST .../sources``: a ``SourceSpec`` (the service refuses those reaching this
server's files or secrets, ``check_remote``)."""


class SourceRead(ReadSchema):
    id: str
    project_id: str
    kind: str
    name: str
    url: str | None
    config: dict[str, Any]
    poll_interval: int | None = Field(description="Seconds; null for webhook sources.")
    enabled: bool
    push_path: str | None = Field(
        description="Where a webhook source's items are pushed (null for polled sources)."
    )
    created_at: UtcDatetime
    updated_at: UtcDatetime | None
    health: SourceHealth


class SourceCreated(SourceRead):
    secret: str | None = Field(
        description="A webhook source's signing secret: shown this once, never again."
    )


class SourceList(ReadSchema):
    items: list[SourceRead]


# pushing items (the webhook) ----------------------------------------------------------------


class PushedItemIn(Schema):
    id: (
        Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=SINGLE_LINE)] | None
    ) = Field(default=None, description="Your key for the item; else its URL identifies it.")
    url: HttpUrlText
    title: Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=MULTI_LINE)]
    text: Annotated[str, StringConstraints(min_length=1, max_length=500_000, pattern=MULTI_LINE)]
    language: LanguageCode | None = None
    published: datetime | None = Field(
        default=None, description="ISO 8601 (UTC when no offset) or unix seconds."
    )
    media: list[HttpUrlText] = Field(default_factory=list, max_length=20)

    def raw(self) -> dict[str, Any]:
        """The item as the ingestion mapping reads it."""
        return self.model_dump(mode="json")


class ItemsPush(Schema):
    items: list[PushedItemIn] = Field(min_length=1, max_length=MAX_ITEMS_PER_PUSH)


class PushedItemResult(ReadSchema):
    index: int = Field(description="Position of the item in the request.")
    id: str | None = Field(description="The content item's id (its partition key).")
    status: Literal["accepted", "duplicate", "skipped"]
    duplicate_of: str | None = None
    reason: str | None = None


class PushResult(ReadSchema):
    accepted: int
    duplicates: int
    skipped: int
    accepted_ids: list[str]
    duplicate_ids: list[str]
    items: list[PushedItemResult]
