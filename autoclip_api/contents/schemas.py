from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator
from pydantic.json_schema import SkipJsonSchema

from autoclip_api.core.types import (
    HTTP_URL,
    MULTI_LINE,
    SINGLE_LINE,
    PartialUpdate,
    ReadSchema,
    Schema,
    UtcDatetime,
)
from autoclip_api.projects.schemas import ChannelIds, TemplateId
from autoclip_core.db.jobs import StepState
from autoclip_core.db.uploads import UploadState
from autoclip_core.feeds import MAX_TEXT_CHARS
from autoclip_core.pipeline_names import GenerateFrom
from autoclip_core.states import ContentState, JobState

Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300, pattern=SINGLE_LINE),
]
ArticleText = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS, pattern=MULTI_LINE)
]
ArticleUrl = Annotated[str, StringConstraints(max_length=2048, pattern=HTTP_URL)]
Spoken = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=1000, pattern=SINGLE_LINE),
]
Headline = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=SINGLE_LINE),
]
ScriptTitle = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=SINGLE_LINE),
]
CURSOR = r"^[0-9]{1,17}-[0-9a-z-]{1,128}$"
"""Where a page starts: after the item created at that many microseconds since 1970 with
that id (what ``next_cursor`` gives)."""
Note = Annotated[str, StringConstraints(max_length=2000, pattern=MULTI_LINE)]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000, pattern=MULTI_LINE)
]


def _text_or_url(schema: dict[str, Any]) -> None:
    schema["oneOf"] = [
        {"required": [name], "properties": {name: {"type": "string"}}} for name in ("text", "url")
    ]


class ContentCreate(Schema):
    """From ``text`` or from ``url``: exactly one of them is a string (the other is left out
    or null)."""

    model_config = ConfigDict(json_schema_extra=_text_or_url)

    project_id: str = Field(
        max_length=64, description="The project the item belongs to (422 when there is none)."
    )
    title: Title | None = Field(default=None, description="Default: the article's own title.")
    text: ArticleText | None = Field(
        default=None, description="The article, as plain text."
    )
    url: ArticleUrl | None = Field(
        default=None,
        description="An article to fetch and extract (422 when the address is refused or the "
        "page holds no article).",
    )
    template_id: TemplateId | None = Field(
        default=None, description="The item's own template; default: the project's."
    )
    channels: ChannelIds | None = Field(
        default=None, description="The item's own channels; default: the project's."
    )

    @model_validator(mode="after")
    def _text_or_url(self) -> ContentCreate:
        if (self.text is None) == (self.url is None):
            raise ValueError("give either text or url")
        return self


class SceneEdit(Schema):
    narration: Spoken = Field(description="What the voice says in this scene.")
    on_screen_text: Headline = Field(description="Short headline shown on the visual.")
    visual_query: Headline | None = Field(
        default=None, description="Keywords for the visual; default: the headline."
    )


class ScriptEdit(Schema):
    """The parts of the script a person edits; hashtags, description and language stay."""

    title: ScriptTitle
    hook: Spoken
    scenes: list[SceneEdit] = Field(min_length=3, max_length=6)
    call_to_action: Spoken


class ContentUpdate(PartialUpdate):
    """Fields left out stay as they are; ``template_id``/``channels`` null: the project's;
    ``script`` null: drop the edit (the next run writes a script again)."""

    title: Title | SkipJsonSchema[None] = None
    script: ScriptEdit | None = None
    template_id: TemplateId | None = None
    channels: ChannelIds | None = None


class GenerateRequest(Schema):
    from_: GenerateFrom | None = Field(
        default=None,
        alias="from",
        description="Redo only this stage and what depends on it (script, narration, visuals, "
        "video); default: the whole pipeline.",
    )


class ApproveRequest(Schema):
    note: Note | None = None


class RejectRequest(Schema):
    reason: Reason


class PublishRequest(Schema):
    channels: ChannelIds | None = Field(
        default=None, description="Channels of the project to publish to; default: the item's."
    )


# reading ----------------------------------------------------------------------------------------


class ContentRead(ReadSchema):
    id: str
    project_id: str
    title: str
    url: str
    state: ContentState
    state_reason: str | None
    language: str | None
    template_id: str | None = Field(description="The item's own template; null: the project's.")
    channels: list[str] | None = Field(description="The item's own channels; null: the project's.")
    approved_at: UtcDatetime | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ContentList(ReadSchema):
    items: list[ContentRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")


class SceneRead(ReadSchema):
    narration: str
    on_screen_text: str
    visual_query: str


class ScriptRead(ReadSchema):
    title: str
    hook: str
    scenes: list[SceneRead]
    call_to_action: str
    hashtags: list[str]
    description: str
    language: str
    edited: bool = Field(description="A person's edit, which the pipeline uses as it is.")


AssetState = Literal["not_run", "running", "succeeded", "failed", "skipped"]


class AssetStatus(ReadSchema):
    """The pipeline step as it last ran for the item."""

    step: str
    state: AssetState
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None
    duration_s: float | None = None
    attempts: int = 0
    error: str | None = None
    materialized: bool = False
    run_id: str | None = None


class SafetyVerdictRead(ReadSchema):
    check: str
    asset: str
    passed: bool
    description: str | None
    run_id: str | None


class Review(ReadSchema):
    required: bool = Field(description="The project publishes only after an approval.")
    decision: Literal["approved", "rejected"] | None
    by: str | None
    at: UtcDatetime | None
    note: str | None


class ContentDetail(ContentRead):
    text: str = Field(description="The article the video is made from.")
    script: ScriptRead | None
    assets: list[AssetStatus]
    safety: list[SafetyVerdictRead]
    media: dict[str, str] = Field(description="Kind (video, thumbnail, audio, captions) → link.")
    review: Review


class StepRead(ReadSchema):
    step: str
    state: StepState
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    duration_s: float | None
    attempts: int
    error: str | None


class JobRead(ReadSchema):
    id: str
    job: str
    state: JobState
    run_id: str | None = Field(description="Null until the request reached Dagster.")
    run_url: str | None = Field(description="The run's page in the Dagster UI.")
    selection: list[str] | None = Field(description="Assets materialised; null: all.")
    requested_by: str | None
    created_at: UtcDatetime
    submitted_at: UtcDatetime | None
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    attempts: int = Field(description="Most tries any step took (1: no retries).")
    error: str | None = Field(description="The failing step's own error.")
    submit_error: str | None = Field(description="Why the request has not reached Dagster yet.")
    steps: list[StepRead]


class JobList(ReadSchema):
    items: list[JobRead]


class ApprovalRead(ReadSchema):
    item: ContentRead
    publication: JobRead | None = Field(
        description="The publication the approval started (channels that publish on approval)."
    )


class UploadRead(ReadSchema):
    channel: str
    state: UploadState
    url: str | None
    platform_id: str | None
    error: str | None
    attempts: int
    published_at: UtcDatetime | None
    updated_at: UtcDatetime


class UploadList(ReadSchema):
    items: list[UploadRead]


def duration(started: datetime | None, finished: datetime | None) -> float | None:
    if started is None or finished is None:
        return None
    return round((finished - started).total_seconds(), 3)
