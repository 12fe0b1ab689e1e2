from __future__ import annotations

from pydantic import Field

from autoclip_api.auth.permissions import Role
from autoclip_api.core.types import Email, ReadSchema, Schema, UtcDatetime


class OrganizationRead(ReadSchema):
    id: str
    name: str
    role: Role = Field(description="Your role in it.")
    created_at: UtcDatetime


class MemberRead(ReadSchema):
    user_id: str
    email: str
    name: str
    role: Role
    joined_at: UtcDatetime


class MemberCreate(Schema):
    email: Email = Field(description="Email of a registered user.")
    role: Role


class MemberUpdate(Schema):
    role: Role


class OrganizationList(ReadSchema):
    items: list[OrganizationRead]
    total: int


class MemberList(ReadSchema):
    items: list[MemberRead]
    total: int
