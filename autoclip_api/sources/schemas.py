from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from autoclip_api.core.types import (
    HTTP_URL,
    MULTI_LINE,
    SINGLE_LINE,
    Name,
    ReadSchema,
    Schema,
    UtcDatetime,
)
from autoclip_core.ingest.webhook import MAX_ITEMS_PER_PUSH

HttpUrlText = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=8, max_length=2048, pattern=HTTP_URL
    ),
]
PollInterval = Annotated[int, Field(ge=60, le=7 * 86400, description="Seconds between polls.")]
LanguageCode = Annotated[
    str, StringConstraints(max_length=16, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
]
JsonPath = Annotated[str, StringConstraints(max_length=200, pattern=r"^[A-Za-z0-9_.\[\]-]*$")]


# creating sources ---------------------------------------------------------------------------


class _SourceCreate(Schema):
    name: Name
    enabled: bool = True


class WebhookSourceCreate(_SourceCreate):
    """Items are pushed to ``POST .../sources/{source_id}/items``, signed with its secret."""

    kind: Literal["webhook"]


class FeedSourceCreate(_SourceCreate):
    """An RSS 2.0/1.0 or Atom feed, polled (conditional GET) through the guarded fetcher."""

    kind: Literal["rss", "atom"]
    url: HttpUrlText
    poll_interval: PollInterval = 900
    full_text: Literal["auto", "always", "never"] = Field(
        default="auto", description="Fetch the linked article: for teasers only, always, never."
    )


class YoutubeSourceCreate(_SourceCreate):
    """A YouTube channel's new videos (its public feed), with transcripts as their text."""

    kind: Literal["youtube"]
    channel_id: Annotated[str, StringConstraints(pattern=r"^UC[A-Za-z0-9_-]{22}$")]
    poll_interval: PollInterval = 900
    transcripts: bool = True
    transcript_languages: list[LanguageCode] = Field(
        default_factory=lambda: ["ko", "en"], max_length=5
    )


class JsonMappingIn(Schema):
    """Where things are in the API's response: dotted paths, ``[]`` maps over a list."""

    items: JsonPath = ""
    id: JsonPath = "id"
    title: JsonPath = "title"
    text: JsonPath = "text"
    url: JsonPath = "url"
    published: JsonPath | None = "published_at"
    author: JsonPath | None = None
    media: JsonPath | None = None
    language: JsonPath | None = None
    next_page: JsonPath | None = None


class JsonApiSourceCreate(_SourceCreate):
    """A JSON API (no authentication: secrets named by the server's environment are not
    available to sources created through the API)."""

    kind: Literal["json_api"]
    url: HttpUrlText
    poll_interval: PollInterval = 900
    mapping: JsonMappingIn = Field(default_factory=JsonMappingIn)
    max_pages: int = Field(default=3, ge=1, le=10)


SourceCreate = Annotated[
    WebhookSourceCreate | FeedSourceCreate | YoutubeSourceCreate | JsonApiSourceCreate,
    Field(discriminator="kind"),
]


# reading sources ----------------------------------------------------------------------------


class SourceHealthRead(ReadSchema):
    last_checked_at: UtcDatetime | None
    last_success_at: UtcDatetime | None
    last_error: str | None
    last_warning: str | None
    consecutive_failures: int
    next_poll_at: UtcDatetime | None = Field(description="Due again at (polled sources).")
    last_new: int
    last_duplicates: int
    total_new: int


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
    health: SourceHealthRead


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
