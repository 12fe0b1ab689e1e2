from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, StringConstraints

from autoclip_api.core.types import KEYS_AS_STATED, Name, ReadSchema, Schema, UtcDatetime
from autoclip_core.db.channels import ChannelState, Platform

SettingKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
SettingValue = (
    Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$")]
    | bool
    | int
    | float
    | None
)
ChannelSettings = Annotated[dict[SettingKey, SettingValue], Field(max_length=32), KEYS_AS_STATED]


class ChannelCreate(Schema):
    platform: Platform = Field(
        description="local: files in the server's channels folder (works now); youtube, "
        "tiktok: an account to connect (stored as needs_authorization)."
    )
    name: Name
    settings: ChannelSettings = Field(
        default_factory=dict, description="Platform options (e.g. privacy), plain values."
    )


class ChannelQuota(ReadSchema):
    """What is left today of the YouTube quota our Google API project shares among channels."""

    day: date = Field(description="The quota's day: Google counts per Pacific day.")
    units_left: int = Field(ge=0)
    uploads_left: int | None = Field(
        ge=0, description="Uploads have a daily bucket of their own (None: they cost units)."
    )
    resets_at: UtcDatetime = Field(description="The next Pacific midnight.")


class ChannelRead(ReadSchema):
    id: str
    project_id: str
    platform: Platform
    name: str
    slug: str = Field(description="The channel's publish target (local: its folder name).")
    settings: dict[str, str | bool | int | float | None]
    state: ChannelState
    authorized: bool = Field(description="Whether OAuth tokens are stored (sealed).")
    identity: dict[str, str] | None = Field(
        default=None, description="The account on the platform, once connected: id, name."
    )
    quota: ChannelQuota | None = Field(
        default=None, description="YouTube channels: what is left of today's quota."
    )
    created_at: UtcDatetime
    updated_at: UtcDatetime | None


class ChannelCreated(ChannelRead):
    authorization_url: str | None = Field(
        description="youtube, tiktok: where the account's owner consents (PKCE, single use, "
        "10 minutes); the platform then redirects to /channels/oauth/{platform}/callback. "
        "None: local, or the platform's OAuth client is not configured here."
    )


class ChannelAuthorizationStarted(ReadSchema):
    authorization_url: str


class ChannelList(ReadSchema):
    items: list[ChannelRead]
