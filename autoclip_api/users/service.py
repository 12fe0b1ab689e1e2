from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from autoclip_api.auth import audit
from autoclip_api.auth.notices import SecurityNotice
from autoclip_api.auth.password_sign_in import password_sign_in_service
from autoclip_api.auth.passwords import enforce_password_policy
from autoclip_api.auth.permissions import Role, sorted_permissions
from autoclip_api.auth.recent import require_recent_auth
from autoclip_api.auth.repository import AuthSessionRepository
from autoclip_api.auth.subject import AuthSubject
from autoclip_api.context import ApiContext
from autoclip_api.core.errors import Conflict, Forbidden, Unauthorized
from autoclip_api.organizations.repository import MembershipRepository, OrganizationRepository
from autoclip_api.users.repository import UserRepository
from autoclip_api.users.schemas import Me, MeUpdate
from autoclip_core.db.models import User, utcnow

logger = logging.getLogger("autoclip_api.users")


class UserService:
    def me(self, session: Session, subject: AuthSubject) -> Me:
        return self._me(self._user(session, subject), subject)

    def update_me(
        self,
        session: Session,
        api: ApiContext,
        subject: AuthSubject,
        data: MeUpdate,
        client_ip: str,
    ) -> Me:
        """The name, and the password: a change needs the current one (checked and throttled
        like a sign-in), a first one (a Google-only account) a recent authentication."""
        user = self._user(session, subject)
        now = utcnow()
        if data.name is not None:
            user.name = data.name
        if data.password is not None:
            if user.password_hash is None:
                require_recent_auth(session, subject)
            elif data.current_password is None or (
                password_sign_in_service.check_password(
                    session, api, user.email, data.current_password, client_ip
                )
                is None
            ):
                raise Forbidden("current_password is missing or wrong")
            enforce_password_policy(data.password, email=user.email, name=user.name)
            audit.record(
                session, "password.changed", user_id=user.id, client_ip=client_ip,
                first=user.password_hash is None,
            )  # fmt: skip
            user.password_hash = api.passwords.hash(data.password)
            AuthSessionRepository(session).revoke_all(
                user.id, reason="password_changed", now=now, keep=subject.session_id
            )
        user.updated_at = now
        session.commit()
        if data.password is not None:
            api.notifier.notify(SecurityNotice(user.id, user.email, "password.changed"))
        return self._me(user, subject)

    def delete_me(self, session: Session, subject: AuthSubject) -> None:
        """Removes the user, their sessions and memberships, and the organisations only they
        belong to (with those organisations' projects). Refused while the user is the last
        owner of an organisation that has other members.
        """
        memberships = MembershipRepository(session)
        sole_member_orgs: list[str] = []
        for membership in memberships.of_user(subject.user_id):
            OrganizationRepository(session).lock(membership.org_id)
            others = memberships.count(membership.org_id, excluding=subject.user_id)
            if others == 0:
                sole_member_orgs.append(membership.org_id)
                continue
            other_owners = memberships.count(
                membership.org_id, role=Role.OWNER, excluding=subject.user_id
            )
            if membership.role == Role.OWNER and other_owners == 0:
                session.rollback()
                raise Conflict(
                    f"You are the last owner of organisation {membership.org_id}, which has "
                    "other members: invite one of them as owner first (they accept it)"
                )
            audit.record(
                session, "member.account_deleted", user_id=subject.user_id,
                org_id=membership.org_id, role=membership.role,
            )  # fmt: skip
        OrganizationRepository(session).delete_many(sole_member_orgs)
        UserRepository(session).delete(subject.user_id)
        session.commit()
        logger.info(
            "deleted user=%s with %d sole-member organisations",
            subject.user_id,
            len(sole_member_orgs),
        )

    @staticmethod
    def _user(session: Session, subject: AuthSubject) -> User:
        user = UserRepository(session).get(subject.user_id)
        if user is None:
            raise Unauthorized("Invalid or expired token")
        return user

    @staticmethod
    def _me(user: User, subject: AuthSubject) -> Me:
        return Me(
            id=user.id,
            email=user.email,
            email_verified=user.email_verified_at is not None,
            sign_in_methods=[
                method
                for method, linked in (
                    ("password", user.password_hash),
                    ("google", user.google_sub),
                )
                if linked is not None
            ],
            name=user.name,
            org_id=subject.org_id,
            role=subject.role.value if subject.role else None,
            permissions=sorted_permissions(subject.role),
        )


user_service = UserService()
