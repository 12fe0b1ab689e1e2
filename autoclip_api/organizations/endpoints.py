from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from autoclip_api.auth.dependencies import Authenticated
from autoclip_api.context import ApiDep
from autoclip_api.core.db import SessionDep
from autoclip_api.core.query import KnownQueryOnly
from autoclip_api.core.responses import error_responses
from autoclip_api.organizations.auth import OrgMember, OrgSettingsModify
from autoclip_api.organizations.schemas import (
    AuditPage,
    InvitationAccept,
    InvitationCreate,
    InvitationList,
    InvitationRead,
    MemberList,
    MemberRead,
    MemberUpdate,
    OrganizationList,
    OrganizationRead,
)
from autoclip_api.organizations.service import audit_page, organization_service

router = APIRouter(prefix="/orgs", tags=["organizations"])
invitations_router = APIRouter(prefix="/invitations", tags=["organizations"])
MEMBER_ERRORS = error_responses(401, 403, 404, 409, 422, 429)
NO_CONTENT = status.HTTP_204_NO_CONTENT


@router.get("", responses=error_responses(401, 429))
def list_my_organizations(subject: Authenticated, session: SessionDep) -> OrganizationList:
    """The organisations you belong to, with your role in each."""
    return organization_service.list_mine(session, subject)


@router.get(
    "/{org_id}/audit",
    responses=error_responses(401, 403, 404, 422, 429),
    dependencies=[KnownQueryOnly],
)
def read_audit_log(
    access: OrgSettingsModify,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="An event id.")] = None,
) -> AuditPage:
    """The organisation's security events and its members' account events (sign-ins and
    their failures, throttling, password and address changes, identity links, invitations,
    role changes), newest first."""
    return audit_page(session, access, before, limit)


@router.get("/{org_id}/members", responses=error_responses(401, 403, 404, 429))
def list_members(access: OrgSettingsModify, session: SessionDep) -> MemberList:
    return organization_service.members(session, access)


@router.delete("/{org_id}/members/me", status_code=NO_CONTENT, responses=MEMBER_ERRORS)
def leave_organization(access: OrgMember, session: SessionDep) -> Response:
    """Leave the organisation (your sessions in it end). An owner can leave whenever another
    owner stays."""
    organization_service.leave(session, access)
    return Response(status_code=NO_CONTENT)


@router.patch("/{org_id}/members/{user_id}", responses=MEMBER_ERRORS)
def change_member_role(
    user_id: str, body: MemberUpdate, access: OrgSettingsModify, session: SessionDep
) -> MemberRead:
    """Takes effect on the member's next request. The last owner cannot be demoted, and nobody
    is made owner here: invite the member with the role owner, and they accept it."""
    return organization_service.change_role(session, access, user_id, body.role)


@router.delete("/{org_id}/members/{user_id}", status_code=NO_CONTENT, responses=MEMBER_ERRORS)
def remove_member(user_id: str, access: OrgSettingsModify, session: SessionDep) -> Response:
    """Remove a member (their sessions in this organisation end). Not the last owner."""
    organization_service.remove_member(session, access, user_id)
    return Response(status_code=NO_CONTENT)


@router.post(
    "/{org_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 409, 422, 429, 503),
)
def invite(
    body: InvitationCreate, access: OrgSettingsModify, api: ApiDep, session: SessionDep
) -> InvitationRead:
    """Invite an e-mail address with a role. The invitation is mailed whether or not the
    address has an account, and the answer is the same; nobody joins (or changes role) until
    they accept it, signed in with that address, proven. Open 7 days; inviting the address
    again renews it with the new role."""
    return organization_service.invite(session, api, access, body)


@router.get("/{org_id}/invitations", responses=error_responses(401, 403, 404, 429))
def list_invitations(access: OrgSettingsModify, session: SessionDep) -> InvitationList:
    """The open invitations (not answered, revoked or expired)."""
    return organization_service.invitations(session, access)


@router.delete(
    "/{org_id}/invitations/{invitation_id}",
    status_code=NO_CONTENT,
    responses=error_responses(401, 403, 404, 429),
)
def revoke_invitation(
    invitation_id: str, access: OrgSettingsModify, session: SessionDep
) -> Response:
    organization_service.revoke_invitation(session, access, invitation_id)
    return Response(status_code=NO_CONTENT)


@invitations_router.post(
    "/{invitation_id}/accept", responses=error_responses(401, 403, 404, 409, 422, 429)
)
def accept_invitation(
    invitation_id: str, body: InvitationAccept, subject: Authenticated, session: SessionDep
) -> OrganizationRead:
    """Join the organisation with the offered role, said back in ``role`` (as a member: take
    that role). Only for an invitation to your proven address."""
    return organization_service.accept(session, subject, invitation_id, body)


@invitations_router.post(
    "/{invitation_id}/decline",
    status_code=NO_CONTENT,
    responses=error_responses(401, 403, 404, 429),
)
def decline_invitation(invitation_id: str, subject: Authenticated, session: SessionDep) -> Response:
    organization_service.decline(session, subject, invitation_id)
    return Response(status_code=NO_CONTENT)
