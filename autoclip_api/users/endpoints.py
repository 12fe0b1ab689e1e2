from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from autoclip_api.auth.dependencies import Authenticated
from autoclip_api.auth.email_flows import email_flows
from autoclip_api.auth.endpoints import ProviderName, client_ip
from autoclip_api.auth.oauth_sign_in import oauth_sign_in_service
from autoclip_api.auth.schemas import MailAccepted, OAuthCallbackRequest
from autoclip_api.context import ApiDep
from autoclip_api.core.db import SessionDep
from autoclip_api.core.responses import error_responses
from autoclip_api.organizations.schemas import MyInvitationList
from autoclip_api.organizations.service import organization_service
from autoclip_api.users.schemas import EmailChange, Me, MeUpdate
from autoclip_api.users.service import user_service

router = APIRouter(prefix="/users", tags=["users"])
RECENT_AUTH_NOTE = (
    "Needs a recent authentication (a sign-in, or ``POST /auth/reauthenticate``, within the "
    "last 5 minutes); otherwise 401 with "
    '``WWW-Authenticate: Bearer error="insufficient_user_authentication"``.'
)


@router.get("/me", responses=error_responses(401, 429))
def get_me(subject: Authenticated, session: SessionDep) -> Me:
    """The caller, with the organisation, role and permissions of this session."""
    return user_service.me(session, subject)


@router.get("/me/invitations", responses=error_responses(401, 403, 429))
def my_invitations(subject: Authenticated, session: SessionDep) -> MyInvitationList:
    """The open invitations to your address (once you proved it: they are for its owner)."""
    return organization_service.my_invitations(session, subject)


@router.patch("/me", responses=error_responses(401, 403, 422, 429))
def update_me(
    body: MeUpdate, request: Request, subject: Authenticated, api: ApiDep, session: SessionDep
) -> Me:
    """Change the name and/or the password (which needs ``current_password``; a first
    password, for an account that signs in with Google only, needs a recent authentication
    instead)."""
    return user_service.update_me(session, api, subject, body, client_ip(request))


@router.post(
    "/me/email",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 409, 422, 429, 503),
    description="Change the e-mail address: a link is mailed to the new address, and the "
    "account changes to it when the link is followed (``POST /auth/verify-email``); the "
    f"current address is told. {RECENT_AUTH_NOTE}",
)
def change_email(
    body: EmailChange, subject: Authenticated, api: ApiDep, session: SessionDep
) -> MailAccepted:
    email_flows.request_email_change(session, api, subject, body.email)
    return MailAccepted(detail="A link to confirm the new address was mailed to it")


@router.post(
    "/me/identities/{provider}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(400, 401, 404, 409, 422, 429, 502, 503),
    description="Link a Google account: start at ``POST /auth/oauth/{provider}/authorize`` and "
    "send the code, state and PKCE verifier the flow came back with here (not to "
    f"``/auth/oauth/{{provider}}``). {RECENT_AUTH_NOTE}",
)
def link_identity(
    provider: ProviderName,
    body: OAuthCallbackRequest,
    request: Request,
    subject: Authenticated,
    api: ApiDep,
    session: SessionDep,
) -> Response:
    oauth_sign_in_service.link_identity(session, api, subject, provider, body, client_ip(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/me/identities/{provider}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 404, 409, 429),
    description=f"Unlink the Google account (not the account's only way in). {RECENT_AUTH_NOTE}",
)
def unlink_identity(
    provider: ProviderName, subject: Authenticated, api: ApiDep, session: SessionDep
) -> Response:
    oauth_sign_in_service.unlink_identity(session, api, subject, provider)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/me", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 409, 429)
)
def delete_me(subject: Authenticated, session: SessionDep) -> Response:
    """Delete the account and everything only it owns; every session ends."""
    user_service.delete_me(session, subject)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
