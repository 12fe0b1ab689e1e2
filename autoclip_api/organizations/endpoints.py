from __future__ import annotations

from fastapi import APIRouter, Response, status

from autoclip_api.auth.dependencies import Authenticated
from autoclip_api.core.db import SessionDep
from autoclip_api.core.responses import error_responses
from autoclip_api.organizations.auth import OrgSettingsModify
from autoclip_api.organizations.schemas import (
    MemberCreate,
    MemberList,
    MemberRead,
    MemberUpdate,
    OrganizationList,
)
from autoclip_api.organizations.service import organization_service

router = APIRouter(prefix="/orgs", tags=["organizations"])
MEMBER_ERRORS = error_responses(401, 403, 404, 409, 422, 429)


@router.get("", responses=error_responses(401, 429))
def list_my_organizations(subject: Authenticated, session: SessionDep) -> OrganizationList:
    """The organisations you belong to, with your role in each."""
    return organization_service.list_mine(session, subject)


@router.get("/{org_id}/members", responses=error_responses(401, 403, 404, 429))
def list_members(access: OrgSettingsModify, session: SessionDep) -> MemberList:
    return organization_service.members(session, access)


@router.post("/{org_id}/members", status_code=status.HTTP_201_CREATED, responses=MEMBER_ERRORS)
def add_member(body: MemberCreate, access: OrgSettingsModify, session: SessionDep) -> MemberRead:
    """Add a registered user with a role."""
    return organization_service.add_member(session, access, body)


@router.patch("/{org_id}/members/{user_id}", responses=MEMBER_ERRORS)
def change_member_role(
    user_id: str, body: MemberUpdate, access: OrgSettingsModify, session: SessionDep
) -> MemberRead:
    """Takes effect on the member's next request. The last owner cannot be demoted."""
    return organization_service.change_role(session, access, user_id, body.role)


@router.delete(
    "/{org_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=MEMBER_ERRORS
)
def remove_member(user_id: str, access: OrgSettingsModify, session: SessionDep) -> Response:
    """Remove a member (their sessions in this organisation end). Not the last owner."""
    organization_service.remove_member(session, access, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
