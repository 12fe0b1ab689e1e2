from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from autoclip_api.auth import audit
from autoclip_api.auth.mails import invitation_mail
from autoclip_api.auth.permissions import Role
from autoclip_api.auth.repository import AuthSessionRepository
from autoclip_api.auth.subject import AuthSubject, OrgAccess
from autoclip_api.context import ApiContext
from autoclip_api.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
)
from autoclip_api.core.ratelimit import LimiterUnavailable
from autoclip_api.core.types import is_hex_id
from autoclip_api.organizations.repository import (
    PENDING,
    InvitationRepository,
    MembershipRepository,
    OrganizationRepository,
)
from autoclip_api.organizations.schemas import (
    AuditEventRead,
    AuditPage,
    InvitationAccept,
    InvitationCreate,
    InvitationList,
    InvitationRead,
    MemberList,
    MemberRead,
    MyInvitation,
    MyInvitationList,
    OrganizationList,
    OrganizationRead,
)
from autoclip_api.users.repository import UserRepository
from autoclip_core.db.models import Invitation, Membership, Organization, User, new_id, utcnow

logger = logging.getLogger("autoclip_api.organizations")

LAST_OWNER = "An organisation needs at least one owner"
OWNER_BY_INVITATION = (
    "Nobody is made owner without saying yes: invite the member with the role owner "
    "(POST /api/v1/orgs/{org_id}/invitations) and they accept it"
)
INVITATION_NOT_FOUND = "Invitation not found"
INVITATION_TTL = timedelta(days=7)
INVITATIONS_PER_HOUR = 50
"""Invitations one organisation may send an hour (each is a mail to someone)."""


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

    def change_role(
        self, session: Session, access: OrgAccess, user_id: str, role: Role
    ) -> MemberRead:
        membership, user = self._locked_member(session, access, user_id)
        if role == Role.OWNER and membership.role != Role.OWNER:
            raise Conflict(OWNER_BY_INVITATION)
        if membership.role == Role.OWNER and role != Role.OWNER:
            self._keep_an_owner(session, access.org_id, user_id)
        audit.record(
            session, "member.role_changed", user_id=user_id, actor_id=access.subject.user_id,
            org_id=access.org_id, old_role=membership.role, new_role=role,
        )  # fmt: skip
        MembershipRepository(session).set_role(membership, role)
        session.commit()
        logger.info("role changed org=%s user=%s role=%s", access.org_id, user_id, role)
        return _member(membership, user)

    def remove_member(self, session: Session, access: OrgAccess, user_id: str) -> None:
        membership, _ = self._locked_member(session, access, user_id)
        audit.record(
            session, "member.removed", user_id=user_id, actor_id=access.subject.user_id,
            org_id=access.org_id, role=membership.role,
        )  # fmt: skip
        self._end_membership(session, membership, reason="removed_from_org")
        logger.info("member removed org=%s user=%s", access.org_id, user_id)

    def leave(self, session: Session, access: OrgAccess) -> None:
        """The caller leaves the organisation; an owner can whenever another owner stays."""
        membership, _ = self._locked_member(session, access, access.subject.user_id)
        audit.record(
            session, "member.left", user_id=membership.user_id, org_id=access.org_id,
            role=membership.role,
        )  # fmt: skip
        self._end_membership(session, membership, reason="left_org")
        logger.info("member left org=%s user=%s", access.org_id, access.subject.user_id)

    def _end_membership(self, session: Session, membership: Membership, *, reason: str) -> None:
        """Removes the membership (not the last owner's) and ends its sessions in the org."""
        org_id, user_id = membership.org_id, membership.user_id
        if membership.role == Role.OWNER:
            self._keep_an_owner(session, org_id, user_id)
        MembershipRepository(session).delete(org_id, user_id)
        AuthSessionRepository(session).revoke_all(
            user_id, reason=reason, now=utcnow(), org_id=org_id
        )
        session.commit()

    # invitations ----------------------------------------------------------------------------

    def invite(
        self, session: Session, api: ApiContext, access: OrgAccess, data: InvitationCreate
    ) -> InvitationRead:
        """Mails an invitation to the address, registered or not (the answer does not say):
        a new one, or the open one renewed with this role. A member is offered a new role."""
        try:
            counted = api.limiter.hit(
                f"invitations:{access.org_id}", limit=INVITATIONS_PER_HOUR, window_seconds=3600
            )
        except LimiterUnavailable:
            raise ServiceUnavailable("Invitations are temporarily unavailable") from None
        if not counted.allowed:
            raise TooManyRequests(counted.reset_after, "Too many invitations; try again later")
        org = OrganizationRepository(session).lock(access.org_id)
        if org is None:
            raise NotFound("Organization not found")
        member = UserRepository(session).get_by_email(data.email)
        role = MembershipRepository(session).role_of(member.id, org.id) if member else None
        if role == data.role:
            raise Conflict(f"Already a member with the role {role}")
        now = utcnow()
        invitations = InvitationRepository(session)
        open_ones = invitations.pending_in_org(org.id, now, email=data.email)
        if open_ones:  # renewed: one open invitation per address
            invitation = open_ones[0]
            invitation.role = data.role
            invitation.invited_by = access.subject.user_id
            invitation.expires_at = now + INVITATION_TTL
        else:
            invitation = invitations.add(
                Invitation(
                    id=new_id(),
                    org_id=org.id,
                    email=data.email,
                    role=data.role,
                    invited_by=access.subject.user_id,
                    status=PENDING,
                    created_at=now,
                    expires_at=now + INVITATION_TTL,
                )
            )
        inviter = UserRepository(session).get(access.subject.user_id)
        audit.record(
            session, "invitation.created", actor_id=access.subject.user_id, org_id=org.id,
            invitation_id=invitation.id, email=data.email, role=data.role,
        )  # fmt: skip
        session.commit()
        api.mailer.send(
            invitation_mail(
                api.settings.app_url,
                data.email,
                org.name,
                inviter.name if inviter else "Someone",
                data.role,
                INVITATION_TTL,
            )
        )
        logger.info(
            "invitation sent org=%s invitation=%s role=%s", org.id, invitation.id, data.role
        )
        return InvitationRead.model_validate(invitation)

    def invitations(self, session: Session, access: OrgAccess) -> InvitationList:
        items = [
            InvitationRead.model_validate(i)
            for i in InvitationRepository(session).pending_in_org(access.org_id, utcnow())
        ]
        return InvitationList(items=items, total=len(items))

    def revoke_invitation(self, session: Session, access: OrgAccess, invitation_id: str) -> None:
        invitation = self._open_in_org(session, access.org_id, invitation_id)
        invitation.status = "revoked"
        invitation.responded_at = utcnow()
        audit.record(
            session, "invitation.revoked", actor_id=access.subject.user_id, org_id=access.org_id,
            invitation_id=invitation.id, email=invitation.email,
        )  # fmt: skip
        session.commit()
        logger.info("invitation revoked org=%s invitation=%s", access.org_id, invitation_id)

    def my_invitations(self, session: Session, subject: AuthSubject) -> MyInvitationList:
        user = self._proven_user(session, subject)
        items = [
            _my_invitation(invitation, org, inviter)
            for invitation, org, inviter in InvitationRepository(session).pending_for(
                user.email, utcnow()
            )
        ]
        return MyInvitationList(items=items, total=len(items))

    def accept(
        self, session: Session, subject: AuthSubject, invitation_id: str, data: InvitationAccept
    ) -> OrganizationRead:
        """Joins the organisation with the offered role (or takes it, as a member). The role
        must be said back: nobody becomes owner without answering yes to exactly that."""
        user = self._proven_user(session, subject)
        invitation, org = self._addressed_to(session, user, invitation_id)
        if data.role != invitation.role:
            raise Conflict(
                f"This invitation offers the role {invitation.role}: accept it with that role"
            )
        OrganizationRepository(session).lock(org.id)
        now = utcnow()
        memberships = MembershipRepository(session)
        membership = memberships.get(org.id, user.id)
        if membership is None:
            memberships.add(
                Membership(user_id=user.id, org_id=org.id, role=invitation.role, created_at=now)
            )
        else:
            if membership.role == Role.OWNER and invitation.role != Role.OWNER:
                self._keep_an_owner(session, org.id, user.id)
            memberships.set_role(membership, invitation.role)
        invitation.status = "accepted"
        invitation.responded_at = now
        audit.record(
            session, "invitation.accepted", user_id=user.id, org_id=org.id,
            invitation_id=invitation.id, role=invitation.role,
        )  # fmt: skip
        session.commit()
        logger.info("invitation accepted org=%s user=%s role=%s", org.id, user.id, invitation.role)
        return OrganizationRead(
            id=org.id, name=org.name, role=Role(invitation.role), created_at=org.created_at
        )

    def decline(self, session: Session, subject: AuthSubject, invitation_id: str) -> None:
        user = self._proven_user(session, subject)
        invitation, org = self._addressed_to(session, user, invitation_id)
        invitation.status = "declined"
        invitation.responded_at = utcnow()
        audit.record(
            session, "invitation.declined", user_id=user.id, org_id=org.id,
            invitation_id=invitation.id,
        )  # fmt: skip
        session.commit()
        logger.info("invitation declined org=%s user=%s", org.id, user.id)

    @staticmethod
    def _proven_user(session: Session, subject: AuthSubject) -> User:
        """The caller, if they proved their address: invitations go to an address, so only
        its owner may see or answer them (not someone who registered it)."""
        user = UserRepository(session).get(subject.user_id)
        if user is None:
            raise NotFound(INVITATION_NOT_FOUND)
        if user.email_verified_at is None:
            raise Forbidden(
                "Verify your e-mail address first (POST /api/v1/auth/verify-email/request): "
                "invitations to it are for its owner"
            )
        return user

    @staticmethod
    def _addressed_to(
        session: Session, user: User, invitation_id: str
    ) -> tuple[Invitation, Organization]:
        rows = (
            InvitationRepository(session).pending_for(
                user.email, utcnow(), invitation_id=invitation_id
            )
            if is_hex_id(invitation_id)
            else []
        )
        if not rows:
            raise NotFound(INVITATION_NOT_FOUND)
        invitation, org, _ = rows[0]
        return invitation, org

    @staticmethod
    def _open_in_org(session: Session, org_id: str, invitation_id: str) -> Invitation:
        found = (
            InvitationRepository(session).pending_in_org(
                org_id, utcnow(), invitation_id=invitation_id
            )
            if is_hex_id(invitation_id)
            else []
        )
        if not found:
            raise NotFound(INVITATION_NOT_FOUND)
        return found[0]

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


def _my_invitation(invitation: Invitation, org: Organization, inviter: User | None) -> MyInvitation:
    return MyInvitation(
        id=invitation.id,
        org_id=org.id,
        org_name=org.name,
        role=Role(invitation.role),
        invited_by_name=inviter.name if inviter else None,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
    )


def _member(membership: Membership, user: User) -> MemberRead:
    return MemberRead(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=Role(membership.role),
        joined_at=membership.created_at,
    )


organization_service = OrganizationService()


def audit_page(session: Session, access: OrgAccess, before: int | None, limit: int) -> AuditPage:
    """A page of the organisation's audit log, newest first; ``next_before`` continues it."""
    events = audit.AuditRepository(session).for_org(access.org_id, before=before, limit=limit + 1)
    page = events[:limit]
    return AuditPage(
        items=[AuditEventRead.model_validate(e) for e in page],
        next_before=page[-1].id if len(events) > limit else None,
    )
