from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from autoclip_api.core.types import (
    KEYS_AS_STATED,
    NAME,
    LongText,
    Name,
    PartialUpdate,
    ReadSchema,
    Schema,
    UtcDatetime,
)
from autoclip_core.ingest.config import DailyBatch, Timezone

LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
"""A BCP 47 tag, e.g. 'ko', 'en', 'pt-BR'."""
Language = Annotated[str, StringConstraints(max_length=16, pattern=LANGUAGE)]
TemplateId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$"),
    Field(description="A built-in (short, long, square) or one of your templates' ids."),
]


def _unique_items(schema: dict[str, Any]) -> None:
    schema["uniqueItems"] = True


ChannelIds = Annotated[
    list[Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]],
    Field(
        max_length=10,
        description="Ids of the project's channels it publishes to, each once (422 naming "
        "the ones that are not the project's).",
        json_schema_extra=_unique_items,
    ),
]
NoChannels = Annotated[
    list[str],
    Field(
        max_length=0,
        description="A new project has no channels: each one created under "
        "/projects/{id}/channels is added here.",
    ),
]
Term = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=NAME), AfterValidator(str.strip)
]
"""A word or phrase, checked as sent (not blank), kept without the whitespace around it."""
BlockedTerms = Annotated[list[Term], Field(max_length=200)]
Weight = Annotated[float, Field(ge=0, le=1)]


def _term_keys(schema: dict[str, Any]) -> None:
    schema["propertyNames"] = {"maxLength": 100}


TopicWeights = Annotated[
    dict[Term, Weight], Field(max_length=100, json_schema_extra=_term_keys), KEYS_AS_STATED
]
Voice = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.+-]+$"),
    Field(description="The narration voice (the speech provider's id); null: its default."),
]


class ProjectCreate(Schema):
    name: Name
    description: LongText | None = None
    language: Language | None = Field(default=None, description="BCP 47 tag, e.g. 'ko', 'en'.")
    timezone: Timezone = Field(default="UTC", description="IANA zone of daily schedules.")
    review_required: bool = Field(default=False, description="Publish only after approval.")
    auto_generate: bool = Field(
        default=False,
        description="Make a video of every new item at once (sensors, webhook); otherwise "
        "new items wait as drafts for the daily batch or a manual start.",
    )
    voice: Voice | None = None
    template_id: TemplateId = Field(
        default="short", description="422 when it names no template the project may use."
    )
    channels: NoChannels = Field(default_factory=list)
    blocked_terms: BlockedTerms = Field(
        default_factory=list, description="Items mentioning one of these are stopped."
    )
    daily_batch: DailyBatch | None = Field(
        default=None, description="Generate the top drafts once a day; null: no daily batch."
    )
    topic_weights: TopicWeights = Field(
        default_factory=dict, description="Term → weight (0..1) in the daily batch's ranking."
    )


class ProjectUpdate(PartialUpdate):
    """Fields left out stay as they are; null only where it is taken (no description,
    language, voice or daily batch)."""

    name: Name | SkipJsonSchema[None] = None
    description: LongText | None = None
    language: Language | None = None
    timezone: Timezone | SkipJsonSchema[None] = None
    review_required: bool | SkipJsonSchema[None] = None
    auto_generate: bool | SkipJsonSchema[None] = None
    voice: Voice | None = None
    template_id: TemplateId | SkipJsonSchema[None] = Field(
        default=None, description="422 when it names no template the project may use."
    )
    channels: ChannelIds | SkipJsonSchema[None] = None
    blocked_terms: BlockedTerms | SkipJsonSchema[None] = None
    daily_batch: DailyBatch | None = Field(default=None, description="null: no daily batch.")
    topic_weights: TopicWeights | SkipJsonSchema[None] = None


class ProjectRead(ReadSchema):
    id: str
    org_id: str
    slug: str
    name: str
    description: str | None
    language: str | None
    voice: str | None
    timezone: str
    review_required: bool
    auto_generate: bool
    template_id: str
    channels: list[str]
    blocked_terms: list[str]
    daily_batch: DailyBatch | None
    topic_weights: dict[str, float]
    created_at: UtcDatetime
    updated_at: UtcDatetime | None


class ProjectList(ReadSchema):
    items: list[ProjectRead]
    total: int
    limit: int
    offset: int
