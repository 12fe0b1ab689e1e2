from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from autoclip_api.auth.permissions import Role
from autoclip_api.auth.repository import AuthSessionRepository
from autoclip_api.auth.subject import AuthSubject, OrgAccess
from autoclip_api.core.errors import Conflict, NotFound
from autoclip_api.core.types import is_hex_id
from autoclip_api.organizations.repository import MembershipRepository, OrganizationRepository
from autoclip_api.organizations.schemas import (
    MemberCreate,
    MemberList,
    MemberRead,
    OrganizationList,
    OrganizationRead,
)
from autoclip_api.users.repository import UserRepository
from autoclip_core.db.models import Membership, User, utcnow

logger = logging.getLogger("autoclip_api.organizations")

LAST_OWNER = "An organisation needs at least one owner"


class OrganizationService:
    def list_mine(self, session: Session, subject: AuthSubject) -> OrganizationList:
        rows = OrganizationRepository(session).list_for_user(subject.user_id)
        items = [
            OrganizationRead(id=org.id, name=org.name, role=Role(role), created_at=org.created_at)
            for org, role in rows
        ]
        return OrganizationList(items=items, total=len(items))

    def members(self, session: Session, access: OrgAccess) -> MemberList:
        rows = MembershipRepository(session).members(access.org_id)
        items = [_member(m, u) for m, u in rows]
        return MemberList(items=items, total=len(items))

    def add_member(self, session: Session, access: OrgAccess, data: MemberCreate) -> MemberRead:
        OrganizationRepository(session).lock(access.org_id)
        user = UserRepository(session).get_by_email(data.email)
        if user is None:
            raise NotFound("No registered user with this email")
        memberships = MembershipRepository(session)
        if memberships.get(access.org_id, user.id) is not None:
            raise Conflict("Already a member")
        membership = memberships.add(
            Membership(user_id=user.id, org_id=access.org_id, role=data.role, created_at=utcnow())
        )
        session.commit()
        logger.info("member added org=%s user=%s role=%s", access.org_id, user.id, data.role)
        return _member(membership, user)

    def change_role(
        self, session: Session, access: OrgAccess, user_id: str, role: Role
    ) -> MemberRead:
        membership, user = self._locked_member(session, access, user_id)
        if membership.role == Role.OWNER and role != Role.OWNER:
            self._keep_an_owner(session, access.org_id, user_id)
        MembershipRepository(session).set_role(membership, role)
        session.commit()
        logger.info("role changed org=%s user=%s role=%s", access.org_id, user_id, role)
        return _member(membership, user)

    def remove_member(self, session: Session, access: OrgAccess, user_id: str) -> None:
        membership, _ = self._locked_member(session, access, user_id)
        if membership.role == Role.OWNER:
            self._keep_an_owner(session, access.org_id, user_id)
        MembershipRepository(session).delete(access.org_id, user_id)
        AuthSessionRepository(session).revoke_all(
            user_id, reason="removed_from_org", now=utcnow(), org_id=access.org_id
        )
        session.commit()
        logger.info("member removed org=%s user=%s", access.org_id, user_id)

    @staticmethod
    def _locked_member(
        session: Session, access: OrgAccess, user_id: str
    ) -> tuple[Membership, User]:
        OrganizationRepository(session).lock(access.org_id)
        membership = (
            MembershipRepository(session).get(access.org_id, user_id)
            if is_hex_id(user_id)
            else None
        )
        user = UserRepository(session).get(user_id) if membership is not None else None
        if membership is None or user is None:
            raise NotFound("Member not found")
        return membership, user

    @staticmethod
    def _keep_an_owner(session: Session, org_id: str, leaving: str) -> None:
        if MembershipRepository(session).count(org_id, role=Role.OWNER, excluding=leaving) == 0:
            raise Conflict(LAST_OWNER)


def _member(membership: Membership, user: User) -> MemberRead:
    return MemberRead(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=Role(membership.role),
        joined_at=membership.created_at,
    )


organization_service = OrganizationService()
