from __future__ import annotations

from typing import Literal

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


class MemberUpdate(Schema):
    role: Role


class OrganizationList(ReadSchema):
    items: list[OrganizationRead]
    total: int


class MemberList(ReadSchema):
    items: list[MemberRead]
    total: int


class InvitationCreate(Schema):
    email: Email = Field(description="Where the invitation is mailed; registered or not.")
    role: Role = Field(
        description="The role offered. To a member, an invitation offers a new role (the only "
        "way anyone becomes owner)."
    )


class InvitationRead(ReadSchema):
    id: str
    org_id: str
    email: str
    role: Role
    status: Literal["pending", "accepted", "declined", "revoked"]
    invited_by: str | None = Field(description="The inviting user's id.")
    created_at: UtcDatetime
    expires_at: UtcDatetime


class InvitationList(ReadSchema):
    items: list[InvitationRead]
    total: int


class MyInvitation(ReadSchema):
    id: str
    org_id: str
    org_name: str
    role: Role
    invited_by_name: str | None
    created_at: UtcDatetime
    expires_at: UtcDatetime


class MyInvitationList(ReadSchema):
    items: list[MyInvitation]
    total: int


class InvitationAccept(Schema):
    role: Role = Field(
        description="The role the invitation offers, said back: accepting is a yes to exactly "
        "this role (owner included)."
    )


class AuditEventRead(ReadSchema):
    id: int
    at: UtcDatetime
    event: str = Field(
        description="What happened: ``account.created``, ``login.succeeded|failed|throttled|"
        "refused|reauthenticated|repeated_failures``, ``session.revoked``, ``password.changed|"
        "reset_requested|reset``, ``email.verified|change_requested|changed``, "
        "``identity.linked|unlinked``, ``invitation.created|accepted|declined|revoked``, "
        "``member.role_changed|removed|left|account_deleted``."
    )
    user_id: str | None = Field(description="The account it is about.")
    actor_id: str | None = Field(description="Who did it, when not that account.")
    org_id: str | None = Field(description="Null for an account's own event.")
    client_ip: str | None
    details: dict[str, str | int | bool]


class AuditPage(ReadSchema):
    items: list[AuditEventRead]
    next_before: int | None = Field(
        description="Pass as ``before`` for the next (older) page; null on the last."
    )
