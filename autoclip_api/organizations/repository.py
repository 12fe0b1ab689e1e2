from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from autoclip_core.cache_versions import changed, org_scope, user_scope
from autoclip_core.db.models import Invitation, Membership, Organization, User


class OrganizationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, org: Organization) -> Organization:
        self.session.add(org)
        self.session.flush()
        return org

    def lock(self, org_id: str) -> Organization | None:
        """The organisation row, locked: membership changes of one org happen one at a time."""
        return self.session.scalar(
            select(Organization).where(Organization.id == org_id).with_for_update()
        )

    def delete_many(self, org_ids: Sequence[str]) -> None:
        """Deletes the organisations; the database cascades their memberships, sessions and
        projects."""
        if not org_ids:
            return
        members = self.session.scalars(
            select(Membership.user_id).where(Membership.org_id.in_(org_ids))
        ).all()
        self.session.execute(delete(Organization).where(Organization.id.in_(org_ids)))
        changed(
            self.session,
            *(org_scope(org_id) for org_id in org_ids),
            *(user_scope(user_id) for user_id in members),
        )

    def list_for_user(self, user_id: str) -> list[tuple[Organization, str]]:
        """The user's organisations with the user's role in each, oldest membership first."""
        rows = self.session.execute(
            select(Organization, Membership.role)
            .join(Membership, Membership.org_id == Organization.id)
            .where(Membership.user_id == user_id)
            .order_by(Membership.created_at, Organization.id)
        )
        return [(org, role) for org, role in rows]


class MembershipRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def role_of(self, user_id: str, org_id: str) -> str | None:
        return self.session.scalar(
            select(Membership.role).where(
                Membership.user_id == user_id, Membership.org_id == org_id
            )
        )

    def get(self, org_id: str, user_id: str) -> Membership | None:
        return self.session.get(Membership, (user_id, org_id))

    def first_of_user(self, user_id: str, org_id: str | None = None) -> Membership | None:
        statement = select(Membership).where(Membership.user_id == user_id)
        if org_id is not None:
            statement = statement.where(Membership.org_id == org_id)
        return self.session.scalar(
            statement.order_by(Membership.created_at, Membership.org_id).limit(1)
        )

    def of_user(self, user_id: str) -> Sequence[Membership]:
        return self.session.scalars(select(Membership).where(Membership.user_id == user_id)).all()

    def members(self, org_id: str) -> list[tuple[Membership, User]]:
        rows = self.session.execute(
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.org_id == org_id)
            .order_by(Membership.created_at, User.id)
        )
        return [(membership, user) for membership, user in rows]

    def count(self, org_id: str, *, role: str | None = None, excluding: str | None = None) -> int:
        statement = select(func.count()).select_from(Membership).where(Membership.org_id == org_id)
        if role is not None:
            statement = statement.where(Membership.role == role)
        if excluding is not None:
            statement = statement.where(Membership.user_id != excluding)
        return self.session.scalar(statement) or 0

    def add(self, membership: Membership) -> Membership:
        self.session.add(membership)
        self.session.flush()
        changed(self.session, user_scope(membership.user_id))
        return membership

    def set_role(self, membership: Membership, role: str) -> None:
        membership.role = role
        changed(self.session, user_scope(membership.user_id))

    def delete(self, org_id: str, user_id: str) -> None:
        self.session.execute(
            delete(Membership).where(Membership.org_id == org_id, Membership.user_id == user_id)
        )
        changed(self.session, user_scope(user_id))


PENDING = "pending"


class InvitationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, invitation: Invitation) -> Invitation:
        self.session.add(invitation)
        self.session.flush()
        return invitation

    def pending_in_org(
        self,
        org_id: str,
        now: datetime,
        *,
        email: str | None = None,
        invitation_id: str | None = None,
    ) -> list[Invitation]:
        """The organisation's open invitations (not answered, revoked or expired), oldest
        first; ``email``/``invitation_id`` narrow them down."""
        statement = select(Invitation).where(
            Invitation.org_id == org_id, Invitation.status == PENDING, Invitation.expires_at > now
        )
        if email is not None:
            statement = statement.where(Invitation.email == email)
        if invitation_id is not None:
            statement = statement.where(Invitation.id == invitation_id)
        return list(self.session.scalars(statement.order_by(Invitation.created_at, Invitation.id)))

    def pending_for(
        self, email: str, now: datetime, *, invitation_id: str | None = None
    ) -> list[tuple[Invitation, Organization, User | None]]:
        """The open invitations to an address, with their organisation and who sent them."""
        statement = (
            select(Invitation, Organization, User)
            .join(Organization, Organization.id == Invitation.org_id)
            .outerjoin(User, User.id == Invitation.invited_by)
            .where(
                Invitation.email == email,
                Invitation.status == PENDING,
                Invitation.expires_at > now,
            )
        )
        if invitation_id is not None:
            statement = statement.where(Invitation.id == invitation_id).with_for_update(
                of=Invitation
            )
        rows = self.session.execute(statement.order_by(Invitation.created_at, Invitation.id))
        return [(invitation, org, inviter) for invitation, org, inviter in rows]
