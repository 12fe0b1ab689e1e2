from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from autoclip_api.auth.dependencies import Authenticated, Public
from autoclip_api.auth.email_flows import email_flows
from autoclip_api.auth.oauth_sign_in import oauth_sign_in_service
from autoclip_api.auth.password_sign_in import password_sign_in_service
from autoclip_api.auth.schemas import (
    EmailVerified,
    ForgotPassword,
    LoginRequest,
    MailAccepted,
    OAuthAuthorization,
    OAuthAuthorizeRequest,
    OAuthCallbackRequest,
    PasswordReset,
    ReauthenticateRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    VerifyEmailRequest,
)
from autoclip_api.auth.sessions import session_service
from autoclip_api.auth.sign_up import sign_up_service
from autoclip_api.context import ApiDep
from autoclip_api.core.db import SessionDep
from autoclip_api.core.responses import error_responses

router = APIRouter(prefix="/auth", tags=["auth"])
FORGOT_ANSWER = "If an account has this address, a link to reset its password was mailed to it"

ProviderName = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$")]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Public],
    responses=error_responses(409, 422, 429, 503),
)
def register(
    body: RegisterRequest, request: Request, api: ApiDep, session: SessionDep
) -> TokenPair:
    """Create a user and an organisation in which the user is ``owner``; sign in. A link to
    verify the e-mail address is mailed to it (``POST /auth/verify-email``)."""
    return sign_up_service.register(session, api, body, client_ip(request))


@router.post("/login", dependencies=[Public], responses=error_responses(401, 403, 429, 503))
def login(body: LoginRequest, request: Request, api: ApiDep, session: SessionDep) -> TokenPair:
    """Sign in with email and password; every sign-in opens a new session (``sid``)."""
    return password_sign_in_service.login(session, api, body, client_ip(request))


@router.post("/refresh", dependencies=[Public], responses=error_responses(401, 429, 503))
def refresh(body: RefreshRequest, request: Request, api: ApiDep, session: SessionDep) -> TokenPair:
    """Exchange a refresh token for a new pair (rotation). Reusing one revokes its session."""
    return session_service.refresh(session, api, body.refresh_token, client_ip(request))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 429))
def logout(subject: Authenticated, session: SessionDep) -> Response:
    """Revoke the current session: its access and refresh tokens stop working at once."""
    session_service.logout(session, subject)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/reauthenticate",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 409, 422, 429, 503),
)
def reauthenticate(
    body: ReauthenticateRequest,
    request: Request,
    subject: Authenticated,
    api: ApiDep,
    session: SessionDep,
) -> Response:
    """Confirm the password in this session: for the next 5 minutes it may set a first
    password, change the e-mail address and link or unlink Google. Throttled like a sign-in.
    (An account without a password signs in with Google again instead.)"""
    password_sign_in_service.reauthenticate(
        session, api, subject, body.password, client_ip(request)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/oauth/{provider}/authorize",
    dependencies=[Public],
    responses=error_responses(400, 404, 429, 503),
)
def oauth_authorize(
    provider: ProviderName,
    body: OAuthAuthorizeRequest,
    request: Request,
    api: ApiDep,
    session: SessionDep,
) -> OAuthAuthorization:
    """Step 1: the provider's authorization URL (with the client's PKCE S256 challenge and a
    nonce) and its state."""
    return oauth_sign_in_service.authorize(session, api, provider, body, client_ip(request))


@router.post(
    "/oauth/{provider}",
    dependencies=[Public],
    responses=error_responses(401, 404, 409, 429, 502, 503),
)
def oauth_sign_in(
    provider: ProviderName,
    body: OAuthCallbackRequest,
    request: Request,
    api: ApiDep,
    session: SessionDep,
) -> TokenPair:
    """Step 2: the ``code`` and ``state`` the provider redirected with, and the PKCE
    ``code_verifier`` of step 1 → a session. Without that verifier the sign-in fails, so a
    code and state taken from the redirect are of no use to another client.

    A new Google user gets an account and an organisation; an existing user with the same
    e-mail address is linked only if they verified it. An account whose address was never
    verified answers 409: sign in with its password and link Google from the settings.
    """
    return oauth_sign_in_service.sign_in(session, api, provider, body, client_ip(request))


# e-mail verification and password reset ------------------------------------------------------


@router.post(
    "/verify-email/request",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 409, 429, 503),
)
def request_email_verification(
    subject: Authenticated, api: ApiDep, session: SessionDep
) -> MailAccepted:
    """Mail a new verification link to the account's address (the previous link stops
    working). At most 5 an hour."""
    email_flows.request_verification(session, api, subject)
    return MailAccepted(detail="A verification link was mailed to your address")


@router.post("/verify-email", dependencies=[Public], responses=error_responses(404, 409, 429, 503))
def verify_email(
    body: VerifyEmailRequest, request: Request, api: ApiDep, session: SessionDep
) -> EmailVerified:
    """Redeem a mailed link's token: single use, valid 24 hours; it proves the address (a
    link for an address the account no longer has does nothing), or changes the account to
    the new address it was mailed to (409 if another account took that address meanwhile).
    An unknown, used or expired link is a 404."""
    return email_flows.verify(session, api, body.token, client_ip(request))


@router.post(
    "/password/forgot",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Public],
    responses=error_responses(429, 503),
)
def forgot_password(
    body: ForgotPassword, request: Request, api: ApiDep, session: SessionDep
) -> MailAccepted:
    """Mail a password reset link (single use, valid 30 minutes) if an account has this
    address. The answer is the same whether one does or not."""
    email_flows.forgot_password(session, api, body.email, client_ip(request))
    return MailAccepted(detail=FORGOT_ANSWER)


@router.post(
    "/password/reset",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Public],
    responses=error_responses(404, 422, 429, 503),
)
def reset_password(
    body: PasswordReset, request: Request, api: ApiDep, session: SessionDep
) -> Response:
    """Set a new password with a mailed link's token; every session of the account ends."""
    email_flows.reset_password(session, api, body, client_ip(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
