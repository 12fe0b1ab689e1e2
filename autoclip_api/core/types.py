"""Validated value types shared by the request/response schemas.

Every string the API accepts is constrained (length and allowed characters): a bounded,
NUL-free, valid-Unicode value is what both SQLite and PostgreSQL can store, so no input can
turn into a database error (a 500) instead of a 422.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

SINGLE_LINE = r"^[^\x00-\x1f\x7f]*$"
MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
HTTP_URL = r"^https?://[^\s/?#\x00-\x1f\x7f]+[^\s\x00-\x1f\x7f]*$"
"""An http(s) URL with a host and no whitespace or control characters (NUL included)."""
WHITESPACE = r"\x09-\x0d\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
"""Unicode's White_Space, spelled out for character classes: a backslash-s means another set in
each regex dialect that reads a pattern (pydantic's, Python's, a client's ECMAScript)."""
_ADDRESS_CHAR = rf"[^@{WHITESPACE}\x00-\x1f\x7f]"
_DOMAIN_START = rf"[^@.{WHITESPACE}\x00-\x1f\x7f]"
EMAIL = rf"^{_ADDRESS_CHAR}{{1,64}}@{_DOMAIN_START}{_ADDRESS_CHAR}*\.{_ADDRESS_CHAR}+$"
"""``local@domain.tld``: no whitespace, control characters or second ``@``; at most 64
characters before the ``@``, a dot in the domain (not first). The schema states it as is."""
NAME = rf"^[^\x00-\x1f\x7f]*[^{WHITESPACE}\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
"""One line with something besides whitespace (kept without the whitespace around it)."""
HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def _lower_email(value: str) -> str:
    value = value.lower()
    if len(value) > 254:  # a few characters lengthen when lower-cased ("İ")
        raise ValueError("not a valid email address")
    return value


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Email = Annotated[
    str,
    StringConstraints(min_length=3, max_length=254, pattern=EMAIL),
    AfterValidator(_lower_email),
]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=NAME), AfterValidator(str.strip)
]
"""Length and characters are checked as sent (what the schema states), then the whitespace
around the name is dropped."""
LongText = Annotated[str, StringConstraints(max_length=5000, pattern=MULTI_LINE)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=SINGLE_LINE)]
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


def _only_pattern_keys(schema: dict[str, Any]) -> None:
    schema["additionalProperties"] = False


KEYS_AS_STATED = Field(json_schema_extra=_only_pattern_keys)
"""On a mapping whose keys are constrained: JSON Schema's ``patternProperties`` alone lets any
other key through, so the schema also states that a key matching no pattern is refused."""


def is_hex_id(value: str) -> bool:
    return bool(HEX_ID.match(value))


class Schema(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class PartialUpdate(Schema):
    """A PATCH body: a field left out stays as it is. Null is taken only by a field whose type
    says ``| None`` (in the schema too); ``| SkipJsonSchema[None]`` (a default, not a value)
    refuses it."""

    @model_validator(mode="after")
    def _null_only_where_taken(self) -> PartialUpdate:
        fields = type(self).model_fields
        for name in self.model_fields_set:
            if getattr(self, name) is None and type(None) not in get_args(fields[name].annotation):
                raise ValueError(f"{name} cannot be null")
        return self


class ReadSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)
