from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field, Strict, StringConstraints, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from autoclip_api.core.types import (
    HTTP_URL,
    MULTI_LINE,
    SINGLE_LINE,
    WHITESPACE,
    Name,
    ReadSchema,
    Schema,
    UtcDatetime,
)
from autoclip_core.ingest.config import (
    MAX_POLL_INTERVAL_S,
    MIN_POLL_INTERVAL_S,
    JsonApiSource,
    LanguageCode,
    RssSource,
    WebhookSource,
    YoutubeSource,
)
from autoclip_core.ingest.state import SourceHealth
from autoclip_core.ingest.webhook import MAX_ITEMS_PER_PUSH

HttpUrlText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=8, max_length=2048, pattern=HTTP_URL),
]

# creating a source through the API ------------------------------------------------------------
# The kinds of ``SourceSpec`` as the API takes them, every rule in the schema: the kind is
# required (it picks the shape), a URL is http(s) without credentials, the poll interval is
# seconds within bounds, and what reaches this server's files or secrets (drop folders, headers
# and keys named by environment variables) is for the sources file only. They are the core
# kinds, so they are stored and read as any other spec.

SOURCE_URL = rf"^https?://[^/?#@{WHITESPACE}\x00-\x1f\x7f]+(?:[/?#][^{WHITESPACE}\x00-\x1f\x7f]*)?$"


def _plain_url(value: str) -> str:
    """:data:`SOURCE_URL`, with reasons (the schema states the pattern itself)."""
    authority = urlsplit(value).netloc if re.match(r"^https?://", value) else ""
    if "@" in authority:
        raise ValueError("url must not contain a user name or password")
    if not re.match(SOURCE_URL, value):
        raise ValueError("url must be an http(s) URL with a host, without spaces or controls")
    return value


SourceUrl = Annotated[
    str,
    StringConstraints(min_length=8, max_length=2048),
    AfterValidator(_plain_url),
    WithJsonSchema(
        {"type": "string", "minLength": 8, "maxLength": 2048, "pattern": SOURCE_URL,
         "description": "http(s), no credentials; never a loopback, private, link-local or "
         "reserved address (checked when created and at every fetch)"}
    ),
]  # fmt: skip
PollSeconds = Annotated[
    float,
    Strict(),
    Field(
        ge=MIN_POLL_INTERVAL_S,
        le=MAX_POLL_INTERVAL_S,
        description="Seconds between polls (the sources file also takes '15m', '2h'...).",
    ),
]
Enabled = Annotated[bool, Strict()]
FileOnly = SkipJsonSchema[None]
"""A field of the sources file that the API does not take (only null, and not listed)."""


class _ApiSource(BaseModel):
    name: Name
    enabled: Enabled = True


class _ApiPolled(_ApiSource):
    poll_interval: PollSeconds = RssSource.model_fields["poll_interval"].default

    @classmethod
    def _duration(cls, value: Any) -> Any:
        """Not the sources file's durations ("15m"): seconds, as the schema says."""
        return value


class RssSourceIn(_ApiPolled, RssSource):
    kind: Literal["rss", "atom"]
    url: SourceUrl  # type: ignore[assignment]
    auth: FileOnly = None


class YoutubeSourceIn(_ApiPolled, YoutubeSource):
    kind: Literal["youtube"]
    api_key_env: FileOnly = None
    transcripts: Enabled = True


class JsonApiSourceIn(_ApiPolled, JsonApiSource):
    kind: Literal["json_api"]
    url: SourceUrl  # type: ignore[assignment]
    auth: FileOnly = None


class WebhookSourceIn(_ApiSource, WebhookSource):
    kind: Literal["webhook"]


SourceCreate = Annotated[
    RssSourceIn | YoutubeSourceIn | JsonApiSourceIn | WebhookSourceIn, Field(discriminator="kind")
]
"""The body of ``POST .../sources``."""


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
