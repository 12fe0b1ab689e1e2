"""Identity: registration, password and Google sign-in, token rotation, logout."""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from autoclip_api.auth import audit
from autoclip_api.auth.email_flows import email_flows
from autoclip_api.auth.limits import SIGN_UPS, limit_address, limit_auth_calls
from autoclip_api.auth.notices import SecurityNotice
from autoclip_api.auth.oauth import (
    OAuthIdentity,
    OAuthRejectedError,
    OAuthUnavailableError,
    pkce_challenge,
)
from autoclip_api.auth.permissions import Role
from autoclip_api.auth.recent import require_recent_auth
from autoclip_api.auth.repository import (
    AuthSessionRepository,
    OAuthStateRepository,
    RefreshTokenRepository,
    SessionContext,
)
from autoclip_api.auth.schemas import (
    LoginRequest,
    OAuthAuthorization,
    OAuthAuthorizeRequest,
    OAuthCallbackRequest,
    RegisterRequest,
    TokenPair,
)
from autoclip_api.auth.subject import AuthSubject
from autoclip_api.auth.tokens import (
    ACCESS_TTL,
    REFRESH_TTL,
    AccessClaims,
    InvalidTokenError,
    digest,
)
from autoclip_api.context import ApiContext
from autoclip_api.core.errors import (
    BadGateway,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)
from autoclip_api.core.ratelimit import Backoff, LimiterUnavailable, hashed
from autoclip_api.core.types import as_utc
from autoclip_api.organizations.repository import MembershipRepository, OrganizationRepository
from autoclip_api.users.repository import UserRepository
from autoclip_core.db.models import (
    AuthSession,
    Membership,
    OAuthState,
    Organization,
    RefreshToken,
    User,
    new_id,
    utcnow,
)

logger = logging.getLogger("autoclip_api.auth")

OAUTH_STATE_TTL = timedelta(minutes=10)


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
UNPROVEN_ACCOUNT = (
    "An account with this e-mail address exists: sign in with your password and link Google "
    "from your settings (forgot the password? POST /api/v1/auth/password/forgot)"
)
INVALID_TOKEN = "Invalid or expired token"


class AuthService:
    # requests -------------------------------------------------------------------------------

    def decode(self, api: ApiContext, token: str) -> AccessClaims:
        """The claims of a well-formed, correctly signed, unexpired access token."""
        try:
            return api.tokens.decode_access(token)
        except InvalidTokenError:
            raise Unauthorized(INVALID_TOKEN) from None

    async def authenticate(
        self,
        api: ApiContext,
        claims: AccessClaims,
        *,
        user_version: str | None,
        org_version: str | None,
    ) -> AuthSubject:
        """The subject of an access token whose session is live, with its current role.

        The session comes from ``api.auth_cache`` while the user's version is the one read at
        the start of this request (any write to the user's sessions or memberships bumps it),
        else from the database. ``org_version`` is handed on to the subject for the caches of
        the organisation's data.
        """
        context = await api.auth_cache.get_or_load(
            claims.session_id,
            user_version,
            partial(run_in_threadpool, self._session_context, api, claims),
        )
        if (
            context is None
            or context.user_id != claims.user_id
            or context.org_id != claims.org_id
            or as_utc(context.expires_at) <= utcnow()
        ):
            raise Unauthorized(INVALID_TOKEN)
        role: Role | None = None
        if context.org_id is not None:
            try:
                role = Role(context.role) if context.role is not None else None
            except ValueError:
                role = None
            if role is None:  # removed from the organisation since the login
                raise Unauthorized(INVALID_TOKEN)
        return AuthSubject(
            claims.user_id, claims.session_id, context.org_id, role, org_version=org_version
        )

    @staticmethod
    def _session_context(api: ApiContext, claims: AccessClaims) -> SessionContext | None:
        with api.sessions() as session:
            return AuthSessionRepository(session).active_context(
                claims.session_id, claims.user_id, utcnow()
            )

    # password sign-up and sign-in -----------------------------------------------------------

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
        org = _add_owner_with_org(
            session, users, user, data.org_name, now, conflict="Email already registered"
        )
        pair = self._open_session(session, api, user.id, org.id, Role.OWNER, now)
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
        pair = self._open_member_session(session, api, user.id, membership, now)
        _record_sign_in(session, user.id, membership, client_ip, "password")
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

    # tokens ---------------------------------------------------------------------------------

    def refresh(self, session: Session, api: ApiContext, token: str, client_ip: str) -> TokenPair:
        """A new pair for a refresh token, which is used up.

        Another use of the token within ``refresh_reuse_grace_seconds`` of its rotation (two
        tabs refreshing at once) gets the very same new pair, while that pair's refresh token
        is unused; any other reuse revokes the whole session.
        """
        limit_auth_calls(api, client_ip)
        try:
            claims = api.tokens.decode_refresh(token)
        except InvalidTokenError:
            raise Unauthorized(INVALID_TOKEN) from None
        now = utcnow()
        tokens = RefreshTokenRepository(session)
        sessions = AuthSessionRepository(session)
        successor, issued_at = new_id(), now
        if tokens.rotate(claims.jti, claims.session_id, successor, now):
            tokens.add(successor, claims.session_id, now)
        else:
            used = tokens.get(claims.jti, claims.session_id)
            if used is None:  # never issued
                raise Unauthorized(INVALID_TOKEN)
            replay = self._grace_successor(api, tokens, used, now)
            if replay is None:
                sessions.revoke(claims.user_id, claims.session_id, reason="refresh_reuse", now=now)
                audit.record(
                    session, "session.revoked", user_id=claims.user_id, client_ip=client_ip,
                    reason="refresh token reused",
                )  # fmt: skip
                session.commit()
                api.metrics.auth_events.labels("refresh_reuse").inc()
                logger.warning(
                    "refresh token reused: session revoked user=%s sid=%s",
                    claims.user_id,
                    claims.session_id,
                )
                raise Unauthorized(INVALID_TOKEN)
            successor, issued_at = replay
            api.metrics.auth_events.labels("refresh_grace").inc()
        context = sessions.active_context(claims.session_id, claims.user_id, now)
        if context is None or (context.org_id is not None and context.role is None):
            session.rollback()
            raise Unauthorized(INVALID_TOKEN)
        role = Role(context.role) if context.role else None
        pair = self._pair(
            api, claims.user_id, claims.session_id, context.org_id, role, successor,
            as_utc(context.expires_at), issued_at,
        )  # fmt: skip
        session.commit()
        return pair

    @staticmethod
    def _grace_successor(
        api: ApiContext, tokens: RefreshTokenRepository, used: RefreshToken, now: datetime
    ) -> tuple[str, datetime] | None:
        """The ``jti`` and issue time of the pair that replaced ``used``, if that was less than
        the grace window ago and the pair's refresh token is still unused."""
        if used.used_at is None or used.successor_jti is None:
            return None
        rotated_at = as_utc(used.used_at)
        grace = timedelta(seconds=api.settings.refresh_reuse_grace_seconds)
        # ``now`` was read before this request waited for the rotating one's lock, so it may
        # precede ``rotated_at``: with no grace configured, even that is a reuse.
        if not grace or now - rotated_at >= grace:
            return None
        successor = tokens.get(used.successor_jti, used.session_id)
        if successor is None or successor.used_at is not None:
            return None
        return used.successor_jti, rotated_at

    def logout(self, session: Session, subject: AuthSubject) -> None:
        AuthSessionRepository(session).revoke(
            subject.user_id, subject.session_id, reason="logout", now=utcnow()
        )
        session.commit()
        logger.info("signed out user=%s", subject.user_id)

    # Google (OpenID Connect + PKCE) ---------------------------------------------------------

    def oauth_authorize(
        self,
        session: Session,
        api: ApiContext,
        provider: str,
        request: OAuthAuthorizeRequest,
        client_ip: str,
    ) -> OAuthAuthorization:
        """The provider's authorization URL for the client's PKCE challenge: the sign-in can
        be completed only with its verifier, which never leaves the client until then."""
        idp = api.oauth.get(provider)
        if idp is None:
            raise NotFound("Unknown OAuth provider")
        if request.redirect_uri not in api.settings.oauth_redirect_uri_list:
            raise BadRequest("redirect_uri is not registered (AUTOCLIP_OAUTH_REDIRECT_URIS)")
        limit_auth_calls(api, client_ip)
        now = utcnow()
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(24)
        OAuthStateRepository(session).add(
            OAuthState(
                state_hash=digest(state),
                provider=provider,
                code_challenge=request.code_challenge,
                nonce=nonce,
                redirect_uri=request.redirect_uri,
                expires_at=now + OAUTH_STATE_TTL,
            ),
            now,
        )
        session.commit()
        url = idp.authorization_url(
            redirect_uri=request.redirect_uri,
            state=state,
            code_challenge=request.code_challenge,
            nonce=nonce,
        )
        return OAuthAuthorization(authorization_url=url, state=state)

    def oauth_sign_in(
        self,
        session: Session,
        api: ApiContext,
        provider: str,
        callback: OAuthCallbackRequest,
        client_ip: str,
    ) -> TokenPair:
        identity = self._identity(session, api, provider, callback, client_ip)
        now = utcnow()
        user = self._user_for_identity(session, api, identity, now, client_ip)
        membership = MembershipRepository(session).first_of_user(user.id)
        pair = self._open_member_session(session, api, user.id, membership, now)
        _record_sign_in(session, user.id, membership, client_ip, provider)
        session.commit()
        api.metrics.auth_events.labels(f"oauth_{provider}").inc()
        logger.info("signed in with %s user=%s", provider, user.id)
        return pair

    def link_identity(
        self,
        session: Session,
        api: ApiContext,
        subject: AuthSubject,
        provider: str,
        callback: OAuthCallbackRequest,
        client_ip: str,
    ) -> None:
        """Links the provider's account (the code of a flow started at ``/authorize``) to the
        caller's, after a recent authentication; the address counts as proven if the provider
        verified that very address."""
        require_recent_auth(session, subject)
        try:
            identity = self._identity(session, api, provider, callback, client_ip)
        except Unauthorized as exc:
            raise BadRequest(exc.detail) from None
        users = UserRepository(session)
        user = users.get(subject.user_id)
        if user is None:
            raise Unauthorized(INVALID_TOKEN)
        holder = users.get_by_google_sub(identity.subject)
        if holder is not None and holder.id != user.id:
            raise Conflict("This Google account is linked to another AutoClip account")
        if user.google_sub not in (None, identity.subject):
            raise Conflict("Another Google account is linked: unlink it first")
        now = utcnow()
        user.google_sub = identity.subject
        if identity.email_verified and identity.email == user.email:
            user.email_verified_at = user.email_verified_at or now
        user.updated_at = now
        audit.record(
            session, "identity.linked", user_id=user.id, client_ip=client_ip, provider=provider
        )
        session.commit()
        api.notifier.notify(SecurityNotice(user.id, user.email, "identity.linked"))
        logger.info("linked %s user=%s", provider, user.id)

    def unlink_identity(
        self, session: Session, api: ApiContext, subject: AuthSubject, provider: str
    ) -> None:
        """Unlinks the provider, after a recent authentication; never the last way in."""
        if provider not in api.oauth:
            raise NotFound("Unknown OAuth provider")
        require_recent_auth(session, subject)
        user = UserRepository(session).get(subject.user_id)
        if user is None:
            raise Unauthorized(INVALID_TOKEN)
        if user.google_sub is None:
            raise NotFound("No Google account is linked")
        if user.password_hash is None:
            raise Conflict("Set a password first: Google is this account's only way in")
        user.google_sub = None
        user.updated_at = utcnow()
        audit.record(session, "identity.unlinked", user_id=user.id, provider=provider)
        session.commit()
        api.notifier.notify(SecurityNotice(user.id, user.email, "identity.unlinked"))
        logger.info("unlinked %s user=%s", provider, user.id)

    def _identity(
        self,
        session: Session,
        api: ApiContext,
        provider: str,
        callback: OAuthCallbackRequest,
        client_ip: str,
    ) -> OAuthIdentity:
        """The provider's verified identity for a callback (state single-use, PKCE verifier
        of the client that started the flow)."""
        idp = api.oauth.get(provider)
        if idp is None:
            raise NotFound("Unknown OAuth provider")
        limit_auth_calls(api, client_ip)
        now = utcnow()
        pending = OAuthStateRepository(session).pop(digest(callback.state), provider, now)
        session.commit()  # a state is single-use, whatever happens next
        if pending is None:
            raise Unauthorized("Unknown or expired OAuth state")
        if not hmac.compare_digest(pkce_challenge(callback.code_verifier), pending.code_challenge):
            # Another client than the one that started this sign-in (it holds the verifier).
            logger.info("OAuth sign-in refused provider=%s reason=PKCE verifier mismatch", provider)
            raise Unauthorized("OAuth sign-in failed")
        try:
            identity = idp.exchange(
                api.http,
                code=callback.code,
                redirect_uri=pending.redirect_uri,
                code_verifier=callback.code_verifier,
                nonce=pending.nonce,
                now=now,
            )
        except OAuthRejectedError as exc:
            logger.info("OAuth sign-in rejected provider=%s reason=%s", provider, exc)
            raise Unauthorized("OAuth sign-in failed") from None
        except OAuthUnavailableError as exc:
            logger.warning("OAuth provider unavailable provider=%s reason=%s", provider, exc)
            raise BadGateway("Identity provider unavailable") from None
        return identity

    def _user_for_identity(
        self,
        session: Session,
        api: ApiContext,
        identity: OAuthIdentity,
        now: datetime,
        client_ip: str,
    ) -> User:
        """The linked user; else the user with that address if they proved it, linked; else a
        new one.

        An account whose address nobody proved is never linked: anyone can register someone
        else's address with a password of their own and wait for its owner to sign in with
        Google (pre-account takeover). Its owner is told to sign in with the password (or
        reset it through the mail) and link Google from the settings.
        """
        users = UserRepository(session)
        user = users.get_by_google_sub(identity.subject)
        if user is not None:
            return user
        if not identity.email_verified:
            raise Unauthorized("OAuth sign-in failed: the account's email is not verified")
        user = users.get_by_email(identity.email)
        if user is not None:
            if user.google_sub is not None:
                raise Conflict("This email is linked to another Google account")
            if user.email_verified_at is None:
                audit.record_now(
                    api, "login.refused", user_id=user.id, client_ip=client_ip,
                    reason="Google sign-in to an account whose address is not proven",
                )  # fmt: skip
                raise Conflict(UNPROVEN_ACCOUNT)
            user.google_sub = identity.subject
            user.updated_at = now
            audit.record(
                session, "identity.linked", user_id=user.id, client_ip=client_ip,
                provider=identity.provider, at_sign_in=True,
            )  # fmt: skip
            return user
        user = User(
            id=new_id(),
            email=identity.email,
            name=identity.name,
            password_hash=None,
            google_sub=identity.subject,
            email_verified_at=now,  # Google's verified claim
            created_at=now,
            updated_at=now,
        )
        _add_owner_with_org(
            session,
            users,
            user,
            f"{identity.name}'s organisation"[:200],
            now,
            conflict="Account created concurrently; sign in again",
        )
        audit.record(
            session, "account.created", user_id=user.id, client_ip=client_ip,
            method=identity.provider,
        )  # fmt: skip
        return user

    # internals ------------------------------------------------------------------------------

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

    def _open_member_session(
        self,
        session: Session,
        api: ApiContext,
        user_id: str,
        membership: Membership | None,
        now: datetime,
    ) -> TokenPair:
        """A new login in the membership's organisation (or in none)."""
        if membership is None:
            return self._open_session(session, api, user_id, None, None, now)
        return self._open_session(
            session, api, user_id, membership.org_id, Role(membership.role), now
        )

    def _open_session(
        self,
        session: Session,
        api: ApiContext,
        user_id: str,
        org_id: str | None,
        role: Role | None,
        now: datetime,
    ) -> TokenPair:
        """A new login: a new ``sid``, absolute expiry in 7 days, first refresh token."""
        sessions = AuthSessionRepository(session)
        sessions.purge_expired(user_id, now)
        auth_session = sessions.add(
            AuthSession(
                id=new_id(),
                user_id=user_id,
                org_id=org_id,
                created_at=now,
                authenticated_at=now,
                expires_at=now + REFRESH_TTL,
            )
        )
        jti = new_id()
        RefreshTokenRepository(session).add(jti, auth_session.id, now)
        return self._pair(
            api, user_id, auth_session.id, org_id, role, jti, auth_session.expires_at, now
        )

    @staticmethod
    def _pair(
        api: ApiContext,
        user_id: str,
        session_id: str,
        org_id: str | None,
        role: Role | None,
        jti: str,
        expires_at: datetime,
        now: datetime,
    ) -> TokenPair:
        return TokenPair(
            access_token=api.tokens.access_token(
                user_id=user_id,
                session_id=session_id,
                org_id=org_id,
                role=role,
                pair_jti=jti,
                now=now,
            ),
            refresh_token=api.tokens.refresh_token(
                user_id=user_id, session_id=session_id, jti=jti, expires_at=expires_at, now=now
            ),
            expires_in=int(ACCESS_TTL.total_seconds()),
        )


auth_service = AuthService()


def _record_sign_in(
    session: Session, user_id: str, membership: Membership | None, client_ip: str, method: str
) -> None:
    audit.record(
        session, "login.succeeded", user_id=user_id,
        org_id=membership.org_id if membership else None, client_ip=client_ip, method=method,
    )  # fmt: skip


def _add_owner_with_org(
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
