from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from autoclip_api.auth.passwords import MAX_LENGTH, check_password_policy
from autoclip_api.core.types import SINGLE_LINE, Email, Name, Schema, Token

# Passwords may hold any printable character; the pattern only keeps out NUL and invalid
# Unicode (which could not be hashed).
NewPassword = Annotated[
    str,
    StringConstraints(max_length=MAX_LENGTH, pattern=r"^[^\x00]*$"),
    AfterValidator(check_password_policy),
]
Password = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_LENGTH, pattern=r"^[^\x00]*$")
]
OrgId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=SINGLE_LINE)]
OAuthCode = Annotated[str, StringConstraints(min_length=1, max_length=2048, pattern=SINGLE_LINE)]
RedirectUri = Annotated[
    str, StringConstraints(min_length=1, max_length=2048, pattern=r"^https?://[^\s\x00-\x1f]+$")
]


class RegisterRequest(Schema):
    email: Email
    password: NewPassword = Field(description="At least 10 characters, not a common password.")
    name: Name
    org_name: Name


class LoginRequest(Schema):
    email: Email
    password: Password
    org_id: OrgId | None = Field(
        default=None, description="Organisation to act in; default: the user's first one."
    )


class RefreshRequest(Schema):
    refresh_token: Token


class TokenPair(Schema):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")


class OAuthAuthorizeRequest(Schema):
    redirect_uri: RedirectUri = Field(description="One of AUTOCLIP_OAUTH_REDIRECT_URIS.")


class OAuthAuthorization(Schema):
    authorization_url: str
    state: str = Field(description="Opaque; send it back with the code. Valid 10 minutes.")


class OAuthCallbackRequest(Schema):
    code: OAuthCode
    state: Token
