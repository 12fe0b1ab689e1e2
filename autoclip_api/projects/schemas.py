from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from autoclip_api.core.types import LongText, Name, ReadSchema, Schema, UtcDatetime


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _timezone(value: str) -> str:
    if value not in _timezones():
        raise ValueError("unknown IANA time zone (e.g. 'Asia/Seoul', 'UTC')")
    return value


Language = Annotated[
    str,
    StringConstraints(max_length=16, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"),
]
Timezone = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+./-]+$"),
    AfterValidator(_timezone),
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


class ProjectUpdate(Schema):
    name: Name | None = None
    description: LongText | None = None
    language: Language | None = None
    timezone: Timezone | None = None
    review_required: bool | None = None
    auto_generate: bool | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> ProjectUpdate:
        for field in ("name", "timezone", "review_required", "auto_generate"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class ProjectRead(ReadSchema):
    id: str
    org_id: str
    slug: str
    name: str
    description: str | None
    language: str | None
    timezone: str
    review_required: bool
    auto_generate: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime | None


class ProjectList(ReadSchema):
    items: list[ProjectRead]
    total: int
    limit: int
    offset: int
