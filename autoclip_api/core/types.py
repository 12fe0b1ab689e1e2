"""Validated value types shared by the request/response schemas.

Every string the API accepts is constrained (length and allowed characters): a bounded,
NUL-free, valid-Unicode value is what both SQLite and PostgreSQL can store, so no input can
turn into a database error (a 500) instead of a 422.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

SINGLE_LINE = r"^[^\x00-\x1f\x7f]*$"
MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
HTTP_URL = r"^https?://[^\s/?#\x00-\x1f\x7f]+[^\s\x00-\x1f\x7f]*$"
"""An http(s) URL with a host and no whitespace or control characters (NUL included)."""
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.][^@\s]*\.[^@\s]+$")
HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def _email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL.match(value):
        raise ValueError("not a valid email address")
    return value


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Email = Annotated[
    str,
    StringConstraints(min_length=3, max_length=254, pattern=SINGLE_LINE),
    AfterValidator(_email),
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=SINGLE_LINE),
]
LongText = Annotated[str, StringConstraints(max_length=5000, pattern=MULTI_LINE)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=SINGLE_LINE)]
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


def is_hex_id(value: str) -> bool:
    return bool(HEX_ID.match(value))


class Schema(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ReadSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)
