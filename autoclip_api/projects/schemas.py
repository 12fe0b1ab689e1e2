from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from autoclip_api.core.types import LongText, Name, ReadSchema, Schema, UtcDatetime
from autoclip_core.ingest.config import BlockedTerms, DailyBatch, Timezone, TopicWeights

Language = Annotated[
    str,
    StringConstraints(max_length=16, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"),
]
TemplateId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$"),
    Field(description="A built-in (short, long, square) or one of your templates' ids."),
]
ChannelIds = Annotated[
    list[Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]],
    Field(max_length=10, description="Ids of the project's channels it publishes to."),
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
    template_id: TemplateId = "short"
    channels: ChannelIds = Field(
        default_factory=list,
        description="A new project has no channels: each one created under "
        "/projects/{id}/channels is added here.",
    )
    blocked_terms: BlockedTerms = Field(
        default_factory=list, description="Items mentioning one of these are stopped."
    )
    daily_batch: DailyBatch | None = Field(
        default=None, description="Generate the top drafts once a day; null: no daily batch."
    )
    topic_weights: TopicWeights = Field(
        default_factory=dict, description="Term → weight (0..1) in the daily batch's ranking."
    )


class ProjectUpdate(Schema):
    name: Name | None = None
    description: LongText | None = None
    language: Language | None = None
    timezone: Timezone | None = None
    review_required: bool | None = None
    auto_generate: bool | None = None
    voice: Voice | None = None
    template_id: TemplateId | None = None
    channels: ChannelIds | None = None
    blocked_terms: BlockedTerms | None = None
    daily_batch: DailyBatch | None = Field(default=None, description="null: no daily batch.")
    topic_weights: TopicWeights | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> ProjectUpdate:
        nullable = {"description", "language", "voice", "daily_batch"}
        for field in self.model_fields_set - nullable:
            if getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


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
