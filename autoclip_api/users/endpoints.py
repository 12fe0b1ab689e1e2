from __future__ import annotations

from fastapi import APIRouter, Response, status

from autoclip_api.auth.dependencies import Authenticated
from autoclip_api.context import ApiDep
from autoclip_api.core.db import SessionDep
from autoclip_api.core.responses import error_responses
from autoclip_api.organizations.schemas import MyInvitationList
from autoclip_api.organizations.service import organization_service
from autoclip_api.users.schemas import Me, MeUpdate
from autoclip_api.users.service import user_service

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", responses=error_responses(401, 429))
def get_me(subject: Authenticated, session: SessionDep) -> Me:
    """The caller, with the organisation, role and permissions of this session."""
    return user_service.me(session, subject)


@router.get("/me/invitations", responses=error_responses(401, 403, 429))
def my_invitations(subject: Authenticated, session: SessionDep) -> MyInvitationList:
    """The open invitations to your address (once you proved it: they are for its owner)."""
    return organization_service.my_invitations(session, subject)


@router.patch("/me", responses=error_responses(401, 403, 422, 429))
def update_me(body: MeUpdate, subject: Authenticated, api: ApiDep, session: SessionDep) -> Me:
    """Change the name and/or the password (which needs ``current_password``)."""
    return user_service.update_me(session, api, subject, body)


@router.delete(
    "/me", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 409, 429)
)
def delete_me(subject: Authenticated, session: SessionDep) -> Response:
    """Delete the account and everything only it owns; every session ends."""
    user_service.delete_me(session, subject)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
