from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from autoclip_api.auth.passwords import MAX_LENGTH, MIN_LENGTH, POLICY, check_new_password
from autoclip_api.core.types import SINGLE_LINE, WHITESPACE, Email, Name, Schema, Token

# Passwords may hold any printable character; the pattern only keeps out NUL and invalid
# Unicode (which could not be hashed). The strength policy needs the account's e-mail and name,
# so it is checked where those are known (``RegisterRequest``, ``UserService.update_me``).
NewPassword = Annotated[
    str,
    StringConstraints(max_length=MAX_LENGTH, pattern=r"^[^\x00]*$"),
    Field(
        description=POLICY,
        # What of the policy JSON Schema can state; the server checks the same (with its own
        # words) and the rest of the policy besides.
        json_schema_extra={
            "format": "password",
            "minLength": MIN_LENGTH,
            # str.strip() also drops \x1c-\x1f: a password of only those is "blank" too.
            "pattern": rf"^[^\x00]*[^{WHITESPACE}\x00\x1c-\x1f][^\x00]*$",
        },
    ),
]
Password = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_LENGTH, pattern=r"^[^\x00]*$"),
    Field(json_schema_extra={"format": "password"}),
]
OrgId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=SINGLE_LINE)]
OAuthCode = Annotated[str, StringConstraints(min_length=1, max_length=2048, pattern=SINGLE_LINE)]
RedirectUri = Annotated[
    str, StringConstraints(min_length=1, max_length=2048, pattern=r"^https?://[^\s\x00-\x1f]+$")
]
# RFC 7636 §4.1-4.2: a verifier is 43-128 unreserved characters; its S256 challenge is the
# unpadded base64url SHA-256 of it (43 characters).
PkceVerifier = Annotated[
    str, StringConstraints(min_length=43, max_length=128, pattern=r"^[A-Za-z0-9._~-]+$")
]
PkceChallenge = Annotated[
    str, StringConstraints(min_length=43, max_length=43, pattern=r"^[A-Za-z0-9_-]+$")
]


class RegisterRequest(Schema):
    # The password comes last: its check sees the (validated) e-mail and names.
    email: Email
    name: Name
    org_name: Name
    password: NewPassword

    @field_validator("password")
    @classmethod
    def _strong_enough(cls, password: str, info: ValidationInfo) -> str:
        return check_new_password(
            password,
            email=info.data.get("email"),
            name=info.data.get("name"),
            related=[info.data.get("org_name") or ""],
        )


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
    code_challenge: PkceChallenge = Field(
        description="BASE64URL(SHA256(code_verifier)) without padding, for a random "
        "code_verifier the client keeps until it sends the code (RFC 7636)."
    )
    code_challenge_method: Literal["S256"] = "S256"


class OAuthAuthorization(Schema):
    authorization_url: str
    state: str = Field(description="Opaque; send it back with the code. Valid 10 minutes.")


class OAuthCallbackRequest(Schema):
    code: OAuthCode
    state: Token
    code_verifier: PkceVerifier = Field(
        description="The verifier of the code_challenge sent to /authorize."
    )


class VerifyEmailRequest(Schema):
    token: Token = Field(description="The token of the mailed link (after ``#token=``).")


class EmailVerified(Schema):
    email: str
    email_verified: bool


class MailAccepted(Schema):
    detail: str


class ForgotPassword(Schema):
    email: Email


class PasswordReset(Schema):
    token: Token = Field(description="The token of the mailed link (after ``#token=``).")
    password: NewPassword


class ReauthenticateRequest(Schema):
    password: Password
