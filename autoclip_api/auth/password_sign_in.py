"""Signing in with a password, and confirming it again within a session.

Every check is throttled per (account, address) and per address before the password is
looked at, and repeated failures for one account alert the operators and its holder."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from autoclip_api.auth import audit
from autoclip_api.auth.limits import limit_auth_calls
from autoclip_api.auth.notices import SecurityNotice
from autoclip_api.auth.repository import AuthSessionRepository
from autoclip_api.auth.schemas import LoginRequest, TokenPair
from autoclip_api.auth.sessions import INVALID_TOKEN, record_sign_in, session_service
from autoclip_api.auth.subject import AuthSubject
from autoclip_api.context import ApiContext
from autoclip_api.core.errors import (
    Conflict,
    Forbidden,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)
from autoclip_api.core.ratelimit import Backoff, LimiterUnavailable, hashed
from autoclip_api.organizations.repository import MembershipRepository
from autoclip_api.users.repository import UserRepository
from autoclip_core.db.models import User, utcnow

logger = logging.getLogger("autoclip_api.auth")

# Sign-in throttling. Failures for one account from one address slow that address alone: five
# attempts at once, then waits of 1 s, 2 s, 4 s... up to 15 minutes, so a correct password from
# anywhere else still signs in. An address failing across many accounts (password spraying)
# gets twenty. A success takes its attempt back.
ACCOUNT_FROM_ADDRESS = Backoff(free=5, base_seconds=1, cap_seconds=900, forget_seconds=900)
ADDRESS = Backoff(free=20, base_seconds=1, cap_seconds=900, forget_seconds=900)
# Failures for one account from everywhere are a signal, never a wall: at this many within the
# window the operators are alerted (a WARNING) and the account holder gets a notice.
FAILED_LOGIN_ALERT = 5
FAILED_LOGIN_ALERT_WINDOW_SECONDS = 15 * 60

INVALID_CREDENTIALS = "Invalid email or password"


class PasswordSignInService:
    def login(
        self, session: Session, api: ApiContext, data: LoginRequest, client_ip: str
    ) -> TokenPair:
        limit_auth_calls(api, client_ip)
        user = self.check_password(session, api, data.email, data.password, client_ip)
        if user is None:
            raise Unauthorized(INVALID_CREDENTIALS)
        now = utcnow()
        membership = MembershipRepository(session).first_of_user(user.id, data.org_id)
        if data.org_id is not None and membership is None:
            session.commit()  # keep the re-hash
            raise Forbidden("Not a member of this organisation")
        pair = session_service.open_member_session(session, api, user.id, membership, now)
        record_sign_in(session, user.id, membership, client_ip, "password")
        session.commit()
        api.metrics.auth_events.labels("login_ok").inc()
        logger.info("signed in user=%s", user.id)
        return pair

    def reauthenticate(
        self, session: Session, api: ApiContext, subject: AuthSubject, password: str, client_ip: str
    ) -> None:
        """The password again, within a session: its sensitive changes are allowed for the
        next :data:`RECENT_AUTH` (a Google-only account signs in with Google again instead)."""
        limit_auth_calls(api, client_ip)
        user = UserRepository(session).get(subject.user_id)
        if user is None:
            raise Unauthorized(INVALID_TOKEN)
        if user.password_hash is None:
            raise Conflict(
                "This account has no password: sign in with Google again to confirm it is you"
            )
        if self.check_password(session, api, user.email, password, client_ip) is None:
            raise Forbidden("The password is wrong")
        AuthSessionRepository(session).authenticated(subject.session_id, utcnow())
        audit.record(
            session, "login.reauthenticated", user_id=user.id, org_id=subject.org_id,
            client_ip=client_ip,
        )  # fmt: skip
        session.commit()
        logger.info("re-authenticated user=%s", user.id)

    def check_password(
        self, session: Session, api: ApiContext, email: str, password: str, client_ip: str
    ) -> User | None:
        """The account with this e-mail if the password is its own, else None; throttled per
        (account, address) and per address (429), whatever the answer.

        Every attempt is counted before the password is checked and a success takes it back,
        so concurrent guesses cannot slip past the back-off.
        """
        account = hashed(email)
        from_address = f"login:{account}:{client_ip}"
        address = f"login-ip:{client_ip}"
        try:
            wait = api.limiter.attempt([(from_address, ACCOUNT_FROM_ADDRESS), (address, ADDRESS)])
        except LimiterUnavailable:
            raise ServiceUnavailable("Sign-in is temporarily unavailable") from None
        if wait > 0:
            api.metrics.auth_events.labels("login_throttled").inc()
            self._record_throttled(session, api, account, email, client_ip)
            raise TooManyRequests(
                wait, "Too many failed sign-in attempts from your address; try again later"
            )
        user = UserRepository(session).get_by_email(email)
        if not api.passwords.verify(user.password_hash if user else None, password):
            api.metrics.auth_events.labels("login_failed").inc()
            logger.info("failed sign-in user=%s", user.id if user else "-")
            if user is not None:
                audit.record_now(api, "login.failed", user_id=user.id, client_ip=client_ip)
            self._signal_failure(api, account, user, client_ip)
            return None
        assert user is not None
        assert user.password_hash is not None
        try:
            api.limiter.reset(from_address)
            api.limiter.forgive(address)
        except LimiterUnavailable:
            raise ServiceUnavailable("Sign-in is temporarily unavailable") from None
        if api.passwords.needs_rehash(user.password_hash):
            user.password_hash = api.passwords.hash(password)
            user.updated_at = utcnow()
            logger.info("re-hashed password with current parameters user=%s", user.id)
        return user

    @staticmethod
    def _record_throttled(
        session: Session, api: ApiContext, account: str, email: str, client_ip: str
    ) -> None:
        """An existing account's throttled sign-in, in the audit log once per (account,
        address) and quarter hour: the waits repeat, the event need not."""
        try:
            first = api.limiter.hit(
                f"audit-throttled:{account}:{client_ip}", limit=1, window_seconds=900
            )
        except LimiterUnavailable:
            return
        user = UserRepository(session).get_by_email(email) if first.allowed else None
        if user is not None:
            audit.record_now(api, "login.throttled", user_id=user.id, client_ip=client_ip)

    @staticmethod
    def _signal_failure(api: ApiContext, account: str, user: User | None, client_ip: str) -> None:
        """Counts a failure against the account from everywhere; at the threshold, alerts the
        operators and notifies the account holder (once per window)."""
        try:
            hit = api.limiter.hit(
                f"login-fail:{account}",
                limit=FAILED_LOGIN_ALERT,
                window_seconds=FAILED_LOGIN_ALERT_WINDOW_SECONDS,
            )
        except LimiterUnavailable:
            return  # the failed sign-in is answered all the same; the signal is best-effort
        if hit.count != FAILED_LOGIN_ALERT:
            return
        api.metrics.auth_events.labels("login_failures_alert").inc()
        logger.warning(
            "security_event=login.repeated_failures user=%s failures=%d window_s=%d",
            user.id if user else "-",
            hit.count,
            FAILED_LOGIN_ALERT_WINDOW_SECONDS,
        )
        if user is not None:
            audit.record_now(
                api, "login.repeated_failures", user_id=user.id, client_ip=client_ip,
                failures=hit.count, window_s=FAILED_LOGIN_ALERT_WINDOW_SECONDS,
            )  # fmt: skip
            api.notifier.notify(
                SecurityNotice(
                    user.id,
                    user.email,
                    "login.repeated_failures",
                    {"failures": hit.count, "window_s": FAILED_LOGIN_ALERT_WINDOW_SECONDS},
                )
            )


password_sign_in_service = PasswordSignInService()
