"""Proving an e-mail address: the mailed single-use links and what redeeming them does.

A token is 256 random bits, mailed once and stored as its SHA-256 with its purpose, the
address it went to and an expiry; redeeming it is one conditional UPDATE (single use, even
under concurrency), and a newer mail of the same purpose replaces the older link.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from autoclip_api.auth import audit
from autoclip_api.auth.limits import limit_auth_calls
from autoclip_api.auth.mails import password_reset_mail, verification_mail
from autoclip_api.auth.notices import SecurityNotice
from autoclip_api.auth.passwords import enforce_password_policy
from autoclip_api.auth.recent import require_recent_auth
from autoclip_api.auth.repository import AuthSessionRepository, EmailTokenRepository
from autoclip_api.auth.schemas import EmailVerified, PasswordReset
from autoclip_api.auth.subject import AuthSubject
from autoclip_api.auth.tokens import digest, opaque_token
from autoclip_api.context import ApiContext
from autoclip_api.core.errors import (
    Conflict,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)
from autoclip_api.core.ratelimit import Hit, LimiterUnavailable
from autoclip_api.email.base import EmailMessage
from autoclip_api.users.repository import UserRepository
from autoclip_core.db.models import EmailToken, User, utcnow

logger = logging.getLogger("autoclip_api.auth")

VERIFY_EMAIL = "verify_email"
CHANGE_EMAIL = "change_email"
VERIFY_TTL = timedelta(hours=24)
RESET_PASSWORD = "reset_password"
RESET_TTL = timedelta(minutes=30)
MAILS_PER_HOUR = 5
"""Mails of one kind to one account per hour: nobody can use us to flood a mailbox."""
INVALID_LINK = "This link is unknown, used or expired; ask for a new one"
INVALID_TOKEN = "Invalid or expired token"


def issue_token(
    session: Session, user: User, purpose: str, email: str, ttl: timedelta, now: datetime
) -> str:
    """A new single-use token for ``email`` (stored hashed); the caller mails it after the
    transaction commits."""
    token = opaque_token()
    EmailTokenRepository(session).replace(
        EmailToken(
            token_hash=digest(token),
            user_id=user.id,
            purpose=purpose,
            email=email,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token


def count_mail(api: ApiContext, kind: str, user_id: str) -> Hit:
    """Counts a mail of ``kind`` to the account: at most :data:`MAILS_PER_HOUR` an hour.
    ``LimiterUnavailable`` without the store."""
    return api.limiter.hit(f"mail:{kind}:{user_id}", limit=MAILS_PER_HOUR, window_seconds=3600)


class EmailFlowService:
    # verification ---------------------------------------------------------------------------

    def verification(
        self, session: Session, api: ApiContext, user: User, now: datetime
    ) -> EmailMessage:
        """The verification mail for the user's address, its token stored in ``session``."""
        token = issue_token(session, user, VERIFY_EMAIL, user.email, VERIFY_TTL, now)
        return verification_mail(api.settings.app_url, user.email, user.name, token, VERIFY_TTL)

    def request_verification(self, session: Session, api: ApiContext, subject: AuthSubject) -> None:
        user = UserRepository(session).get(subject.user_id)
        if user is None:  # deleted since the token was issued
            raise Unauthorized(INVALID_TOKEN)
        if user.email_verified_at is not None:
            raise Conflict("Your e-mail address is already verified")
        try:
            counted = count_mail(api, VERIFY_EMAIL, user.id)
        except LimiterUnavailable:
            raise ServiceUnavailable("Mail is temporarily unavailable") from None
        if not counted.allowed:
            raise TooManyRequests(counted.reset_after, "Too many verification mails; try later")
        mail = self.verification(session, api, user, utcnow())
        session.commit()
        api.mailer.send(mail)
        logger.info("verification mailed user=%s", user.id)

    def verify(
        self, session: Session, api: ApiContext, token: str, client_ip: str
    ) -> EmailVerified:
        """Redeems a verification link: the account's address is proven — or, for a link
        mailed to a new address, the account changes to it."""
        limit_auth_calls(api, client_ip)
        now = utcnow()
        users = UserRepository(session)
        record = EmailTokenRepository(session).redeem(
            digest(token), (VERIFY_EMAIL, CHANGE_EMAIL), now
        )
        user = users.get(record.user_id) if record is not None else None
        changing = record is not None and record.purpose == CHANGE_EMAIL
        if record is None or user is None or (user.email != record.email and not changing):
            session.rollback()  # a link for an address the account no longer has stays unused
            raise NotFound(INVALID_LINK)
        old_email = user.email
        if changing:
            taken = users.get_by_email(record.email)
            if taken is not None and taken.id != user.id:
                session.rollback()
                raise Conflict("Another account uses this address now")
            user.email = record.email
        user.email_verified_at = now if changing else (user.email_verified_at or now)
        user.updated_at = now
        if changing:
            audit.record(
                session, "email.changed", user_id=user.id, client_ip=client_ip,
                old_email=old_email, new_email=user.email,
            )  # fmt: skip
        else:
            audit.record(session, "email.verified", user_id=user.id, client_ip=client_ip)
        try:
            session.commit()
        except IntegrityError:  # another account took the address meanwhile
            session.rollback()
            raise Conflict("Another account uses this address now") from None
        if changing:
            api.notifier.notify(
                SecurityNotice(user.id, old_email, "email.changed", {"new_email": user.email})
            )
        logger.info("e-mail %s user=%s", "changed" if changing else "verified", user.id)
        return EmailVerified(email=user.email, email_verified=True)

    # changing the address -------------------------------------------------------------------

    def request_email_change(
        self, session: Session, api: ApiContext, subject: AuthSubject, email: str
    ) -> None:
        """Mails a link to the new address (after a recent authentication); the account
        changes to it only when that link is followed. The current address is told."""
        require_recent_auth(session, subject)
        user = UserRepository(session).get(subject.user_id)
        if user is None:  # deleted since the token was issued
            raise Unauthorized(INVALID_TOKEN)
        if email == user.email:
            raise Conflict("This is already your address")
        try:
            counted = count_mail(api, CHANGE_EMAIL, user.id)
        except LimiterUnavailable:
            raise ServiceUnavailable("Mail is temporarily unavailable") from None
        if not counted.allowed:
            raise TooManyRequests(counted.reset_after, "Too many address changes; try later")
        token = issue_token(session, user, CHANGE_EMAIL, email, VERIFY_TTL, utcnow())
        audit.record(session, "email.change_requested", user_id=user.id, new_email=email)
        session.commit()
        api.mailer.send(
            verification_mail(
                api.settings.app_url, email, user.name, token, VERIFY_TTL, new_address=True
            )
        )
        api.notifier.notify(
            SecurityNotice(user.id, user.email, "email.change_requested", {"new_email": email})
        )
        logger.info("address change mailed user=%s", user.id)

    # password reset -------------------------------------------------------------------------

    def forgot_password(
        self, session: Session, api: ApiContext, email: str, client_ip: str
    ) -> None:
        """Mails a reset link if an account has the address; nothing tells whether one does
        (same answer, and the mail leaves in the background)."""
        limit_auth_calls(api, client_ip)
        user = UserRepository(session).get_by_email(email)
        if user is None:
            return
        try:
            counted = count_mail(api, RESET_PASSWORD, user.id)
        except LimiterUnavailable:
            raise ServiceUnavailable("Mail is temporarily unavailable") from None
        if not counted.allowed:
            logger.info("password reset mail withheld (hourly limit) user=%s", user.id)
            return
        token = issue_token(session, user, RESET_PASSWORD, user.email, RESET_TTL, utcnow())
        audit.record(session, "password.reset_requested", user_id=user.id, client_ip=client_ip)
        session.commit()
        api.mailer.send(password_reset_mail(api.settings.app_url, user.email, token, RESET_TTL))
        logger.info("password reset mailed user=%s", user.id)

    def reset_password(
        self, session: Session, api: ApiContext, data: PasswordReset, client_ip: str
    ) -> None:
        """A new password through a mailed link: every session of the account ends, and the
        address counts as proven (the link reached it)."""
        limit_auth_calls(api, client_ip)
        now = utcnow()
        tokens = EmailTokenRepository(session)
        record = tokens.redeem(digest(data.token), (RESET_PASSWORD,), now)
        user = UserRepository(session).get(record.user_id) if record is not None else None
        if record is None or user is None or user.email != record.email:
            session.rollback()
            raise NotFound(INVALID_LINK)
        try:
            enforce_password_policy(data.password, email=user.email, name=user.name)
        except RequestValidationError:
            session.rollback()  # the link stays usable for a better password
            raise
        user.password_hash = api.passwords.hash(data.password)
        user.email_verified_at = user.email_verified_at or now
        user.updated_at = now
        AuthSessionRepository(session).revoke_all(user.id, reason="password_reset", now=now)
        tokens.forget(user.id, RESET_PASSWORD)
        audit.record(session, "password.reset", user_id=user.id, client_ip=client_ip)
        session.commit()
        api.notifier.notify(SecurityNotice(user.id, user.email, "password.reset"))
        logger.info("password reset user=%s", user.id)


email_flows = EmailFlowService()
