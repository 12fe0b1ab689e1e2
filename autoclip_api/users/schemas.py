from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from autoclip_api.auth.schemas import NewPassword, Password
from autoclip_api.core.types import Email, Name, ReadSchema, Schema


class Me(ReadSchema):
    id: str
    email: str
    email_verified: bool = Field(description="Whether the owner of the address proved it.")
    sign_in_methods: list[Literal["password", "google"]] = Field(
        description="How the account can sign in."
    )
    name: str
    org_id: str | None = Field(description="The organisation of this session.")
    role: str | None = Field(description="Current role there (read on every request).")
    permissions: list[str]


class MeUpdate(Schema):
    # Leave a field out to keep it; null is not a name or a password (and not in the schema).
    name: Name | SkipJsonSchema[None] = None
    password: NewPassword | SkipJsonSchema[None] = Field(
        default=None,
        description="New password; needs current_password (a first password, for a "
        "Google-only account: a sign-in within the last 5 minutes). Ends other sessions.",
    )
    current_password: Password | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> MeUpdate:
        for field in ("name", "password"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class EmailChange(Schema):
    email: Email = Field(description="The new address: a link is mailed to it to confirm.")
