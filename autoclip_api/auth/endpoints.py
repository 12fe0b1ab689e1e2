from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from autoclip_api.auth.dependencies import Authenticated, Public
from autoclip_api.auth.schemas import (
    LoginRequest,
    OAuthAuthorization,
    OAuthAuthorizeRequest,
    OAuthCallbackRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
)
from autoclip_api.auth.service import auth_service
from autoclip_api.context import ApiDep
from autoclip_api.core.db import SessionDep
from autoclip_api.core.responses import error_responses

router = APIRouter(prefix="/auth", tags=["auth"])

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
    """Create a user and an organisation in which the user is ``owner``; sign in."""
    return auth_service.register(session, api, body, client_ip(request))


@router.post("/login", dependencies=[Public], responses=error_responses(401, 403, 429, 503))
def login(body: LoginRequest, request: Request, api: ApiDep, session: SessionDep) -> TokenPair:
    """Sign in with email and password; every sign-in opens a new session (``sid``)."""
    return auth_service.login(session, api, body, client_ip(request))


@router.post("/refresh", dependencies=[Public], responses=error_responses(401, 429, 503))
def refresh(body: RefreshRequest, request: Request, api: ApiDep, session: SessionDep) -> TokenPair:
    """Exchange a refresh token for a new pair (rotation). Reusing one revokes its session."""
    return auth_service.refresh(session, api, body.refresh_token, client_ip(request))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 429))
def logout(subject: Authenticated, session: SessionDep) -> Response:
    """Revoke the current session: its access and refresh tokens stop working at once."""
    auth_service.logout(session, subject)
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
    return auth_service.oauth_authorize(session, api, provider, body, client_ip(request))


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
    verified email is linked.
    """
    return auth_service.oauth_sign_in(session, api, provider, body, client_ip(request))
