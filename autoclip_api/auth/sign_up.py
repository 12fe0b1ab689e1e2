"""A new account: signing up with a password, and the organisation every new user owns
(a first sign-in with an OAuth provider makes one too)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from autoclip_api.auth import audit
from autoclip_api.auth.email_flows import email_flows
from autoclip_api.auth.limits import SIGN_UPS, limit_address, limit_auth_calls
from autoclip_api.auth.permissions import Role
from autoclip_api.auth.schemas import RegisterRequest, TokenPair
from autoclip_api.auth.sessions import session_service
from autoclip_api.context import ApiContext
from autoclip_api.core.errors import Conflict
from autoclip_api.organizations.repository import MembershipRepository, OrganizationRepository
from autoclip_api.users.repository import UserRepository
from autoclip_core.db.models import Membership, Organization, User, new_id, utcnow

logger = logging.getLogger("autoclip_api.auth")


class SignUpService:
    def register(
        self, session: Session, api: ApiContext, data: RegisterRequest, client_ip: str
    ) -> TokenPair:
        limit_auth_calls(api, client_ip)
        limit_address(api, SIGN_UPS, client_ip, api.settings.register_rate_limit_per_hour)
        # Hashed before the e-mail is looked up: a taken address costs the same hash as a new
        # account, so the 409 is not answered sooner than a sign-up (no timing oracle).
        password_hash = api.passwords.hash(data.password)
        users = UserRepository(session)
        if users.get_by_email(data.email) is not None:
            raise Conflict("Email already registered")
        now = utcnow()
        user = User(
            id=new_id(),
            email=data.email,
            name=data.name,
            password_hash=password_hash,
            created_at=now,
            updated_at=now,
        )
        org = add_owner_with_org(
            session, users, user, data.org_name, now, conflict="Email already registered"
        )
        pair = session_service.open_session(session, api, user.id, org.id, Role.OWNER, now)
        # Until its owner follows the mailed link, the address is only what someone typed in:
        # Google sign-in does not link to it, and invitations to it cannot be accepted.
        mail = email_flows.verification(session, api, user, now)
        audit.record(
            session, "account.created", user_id=user.id, org_id=org.id, client_ip=client_ip,
            method="password",
        )  # fmt: skip
        session.commit()
        api.mailer.send(mail)
        api.metrics.auth_events.labels("register").inc()
        logger.info("registered user=%s org=%s", user.id, org.id)
        return pair


sign_up_service = SignUpService()


def add_owner_with_org(
    session: Session,
    users: UserRepository,
    user: User,
    org_name: str,
    now: datetime,
    *,
    conflict: str,
) -> Organization:
    """Add a new user with a new organisation they own; Conflict if the user already exists."""
    org = Organization(id=new_id(), name=org_name, created_at=now)
    try:
        users.add(user)
        OrganizationRepository(session).add(org)
        MembershipRepository(session).add(
            Membership(user_id=user.id, org_id=org.id, role=Role.OWNER, created_at=now)
        )
    except IntegrityError:
        session.rollback()
        raise Conflict(conflict) from None
    return org
