from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from autoclip_api.core.types import LongText, Name, PartialUpdate, ReadSchema, Schema, UtcDatetime

PreviewFormat = Literal["png", "mp4"]


class TemplateCreate(Schema):
    name: Name
    description: LongText | None = None
    source: dict[str, Any] = Field(
        description="The template: RenderScript JSON (the subset the local engine renders; "
        "see the README). At most 256 KiB and fewer than 500 elements; media sources are "
        "http(s) URLs or relative file names."
    )


class TemplateUpdate(PartialUpdate):
    name: Name | SkipJsonSchema[None] = None
    description: LongText | None = None
    source: dict[str, Any] | SkipJsonSchema[None] = None


class TemplateRead(ReadSchema):
    id: str = Field(description="A built-in's name (short, long, square) or the template's id.")
    builtin: bool = Field(description="Built-ins are read-only.")
    name: str
    description: str | None
    width: int
    height: int
    pipeline_ready: bool = Field(
        description="Whether it has every element the pipeline fills (a project may use it)."
    )
    missing_elements: list[str] = Field(description="The pipeline's elements it lacks.")
    source: dict[str, Any]
    created_at: UtcDatetime | None
    updated_at: UtcDatetime | None


class TemplateList(ReadSchema):
    items: list[TemplateRead] = Field(description="The built-ins first, then your own.")
    total: int
    limit: int
    offset: int
