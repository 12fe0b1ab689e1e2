"""Identity: registration, password and Google sign-in, token rotation, logout."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from autoclip_api.auth.oauth import (
    OAuthIdentity,
    OAuthRejectedError,
    OAuthUnavailableError,
    pkce_pair,
)
from autoclip_api.auth.permissions import Role
from autoclip_api.auth.repository import (
    AuthSessionRepository,
    OAuthStateRepository,
    RefreshTokenRepository,
    SessionContext,
)
from autoclip_api.auth.schemas import (
    LoginRequest,
    OAuthAuthorization,
    RegisterRequest,
    TokenPair,
)
from autoclip_api.auth.subject import AuthSubject
from autoclip_api.auth.tokens import ACCESS_TTL, REFRESH_TTL, AccessClaims, InvalidTokenError
from autoclip_api.context import FAILED_LOGIN_LIMIT, FAILED_LOGIN_WINDOW_SECONDS, ApiContext
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
from autoclip_api.core.ratelimit import LimiterUnavailable, hashed
from autoclip_api.core.types import as_utc
from autoclip_api.organizations.repository import MembershipRepository, OrganizationRepository
from autoclip_api.users.repository import UserRepository
from autoclip_core.models import (
    AuthSession,
    Membership,
    OAuthState,
    Organization,
    User,
    new_id,
    utcnow,
)

logger = logging.getLogger("autoclip_api.auth")

OAUTH_STATE_TTL = timedelta(minutes=10)
INVALID_CREDENTIALS = "Invalid email or password"
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
        self._limit_ip(api, client_ip)
        users = UserRepository(session)
        if users.get_by_email(data.email) is not None:
            raise Conflict("Email already registered")
        now = utcnow()
        user = User(
            id=new_id(),
            email=data.email,
            name=data.name,
            password_hash=api.passwords.hash(data.password),
            created_at=now,
            updated_at=now,
        )
        org = _add_owner_with_org(
            session, users, user, data.org_name, now, conflict="Email already registered"
        )
        pair = self._open_session(session, api, user.id, org.id, Role.OWNER, now)
        session.commit()
        api.metrics.auth_events.labels("register").inc()
        logger.info("registered user=%s org=%s", user.id, org.id)
        return pair

    def login(
        self, session: Session, api: ApiContext, data: LoginRequest, client_ip: str
    ) -> TokenPair:
        self._limit_ip(api, client_ip)
        # Every attempt takes a slot in the account's 15-minute window and a success gives it
        # back, so concurrent guesses cannot slip past the limit.
        account = f"login-fail:{hashed(data.email)}"
        try:
            attempt = api.limiter.hit(
                account, limit=FAILED_LOGIN_LIMIT, window_seconds=FAILED_LOGIN_WINDOW_SECONDS
            )
        except LimiterUnavailable:
            raise ServiceUnavailable("Sign-in is temporarily unavailable") from None
        if not attempt.allowed:
            api.metrics.auth_events.labels("login_locked").inc()
            raise TooManyRequests(
                attempt.reset_after, "Too many failed sign-in attempts; try again later"
            )
        user = UserRepository(session).get_by_email(data.email)
        if not api.passwords.verify(user.password_hash if user else None, data.password):
            api.metrics.auth_events.labels("login_failed").inc()
            logger.info("failed sign-in user=%s", user.id if user else "-")
            raise Unauthorized(INVALID_CREDENTIALS)
        assert user is not None
        assert user.password_hash is not None
        try:
            api.limiter.reset(account)
        except LimiterUnavailable:
            raise ServiceUnavailable("Sign-in is temporarily unavailable") from None
        now = utcnow()
        if api.passwords.needs_rehash(user.password_hash):
            user.password_hash = api.passwords.hash(data.password)
            user.updated_at = now
            logger.info("re-hashed password with current parameters user=%s", user.id)
        membership = MembershipRepository(session).first_of_user(user.id, data.org_id)
        if data.org_id is not None and membership is None:
            session.commit()  # keep the re-hash
            raise Forbidden("Not a member of this organisation")
        pair = self._open_session(
            session,
            api,
            user.id,
            membership.org_id if membership else None,
            Role(membership.role) if membership else None,
            now,
        )
        session.commit()
        api.metrics.auth_events.labels("login_ok").inc()
        logger.info("signed in user=%s", user.id)
        return pair

    # tokens ---------------------------------------------------------------------------------

    def refresh(self, session: Session, api: ApiContext, token: str, client_ip: str) -> TokenPair:
        """A new pair for a refresh token, which is used up. Reuse revokes the whole session."""
        self._limit_ip(api, client_ip)
        try:
            claims = api.tokens.decode_refresh(token)
        except InvalidTokenError:
            raise Unauthorized(INVALID_TOKEN) from None
        now = utcnow()
        tokens = RefreshTokenRepository(session)
        sessions = AuthSessionRepository(session)
        if not tokens.use(claims.jti, claims.session_id, now):
            if tokens.was_issued(claims.jti, claims.session_id):
                sessions.revoke(claims.user_id, claims.session_id, reason="refresh_reuse", now=now)
                session.commit()
                api.metrics.auth_events.labels("refresh_reuse").inc()
                logger.warning(
                    "refresh token reused: session revoked user=%s sid=%s",
                    claims.user_id,
                    claims.session_id,
                )
            raise Unauthorized(INVALID_TOKEN)
        context = sessions.active_context(claims.session_id, claims.user_id, now)
        if context is None or (context.org_id is not None and context.role is None):
            session.rollback()
            raise Unauthorized(INVALID_TOKEN)
        jti = new_id()
        tokens.add(jti, claims.session_id, now)
        role = Role(context.role) if context.role else None
        pair = self._pair(
            api, claims.user_id, claims.session_id, context.org_id, role, jti,
            as_utc(context.expires_at), now,
        )  # fmt: skip
        session.commit()
        return pair

    def logout(self, session: Session, subject: AuthSubject) -> None:
        AuthSessionRepository(session).revoke(
            subject.user_id, subject.session_id, reason="logout", now=utcnow()
        )
        session.commit()
        logger.info("signed out user=%s", subject.user_id)

    # Google (OpenID Connect + PKCE) ---------------------------------------------------------

    def oauth_authorize(
        self, session: Session, api: ApiContext, provider: str, redirect_uri: str, client_ip: str
    ) -> OAuthAuthorization:
        idp = api.oauth.get(provider)
        if idp is None:
            raise NotFound("Unknown OAuth provider")
        if redirect_uri not in api.settings.oauth_redirect_uri_list:
            raise BadRequest("redirect_uri is not registered (AUTOCLIP_OAUTH_REDIRECT_URIS)")
        self._limit_ip(api, client_ip)
        now = utcnow()
        state = secrets.token_urlsafe(32)
        verifier, challenge = pkce_pair()
        nonce = secrets.token_urlsafe(24)
        OAuthStateRepository(session).add(
            OAuthState(
                state_hash=_sha256(state),
                provider=provider,
                code_verifier=verifier,
                nonce=nonce,
                redirect_uri=redirect_uri,
                expires_at=now + OAUTH_STATE_TTL,
            ),
            now,
        )
        session.commit()
        url = idp.authorization_url(
            redirect_uri=redirect_uri, state=state, code_challenge=challenge, nonce=nonce
        )
        return OAuthAuthorization(authorization_url=url, state=state)

    def oauth_sign_in(
        self,
        session: Session,
        api: ApiContext,
        provider: str,
        code: str,
        state: str,
        client_ip: str,
    ) -> TokenPair:
        idp = api.oauth.get(provider)
        if idp is None:
            raise NotFound("Unknown OAuth provider")
        self._limit_ip(api, client_ip)
        now = utcnow()
        pending = OAuthStateRepository(session).pop(_sha256(state), provider, now)
        session.commit()  # a state is single-use, whatever happens next
        if pending is None:
            raise Unauthorized("Unknown or expired OAuth state")
        try:
            identity = idp.exchange(
                api.http,
                code=code,
                redirect_uri=pending.redirect_uri,
                code_verifier=pending.code_verifier,
                nonce=pending.nonce,
                now=now,
            )
        except OAuthRejectedError as exc:
            logger.info("OAuth sign-in rejected provider=%s reason=%s", provider, exc)
            raise Unauthorized("OAuth sign-in failed") from None
        except OAuthUnavailableError as exc:
            logger.warning("OAuth provider unavailable provider=%s reason=%s", provider, exc)
            raise BadGateway("Identity provider unavailable") from None
        user = self._user_for_identity(session, identity, now)
        membership = MembershipRepository(session).first_of_user(user.id)
        pair = self._open_session(
            session,
            api,
            user.id,
            membership.org_id if membership else None,
            Role(membership.role) if membership else None,
            now,
        )
        session.commit()
        api.metrics.auth_events.labels(f"oauth_{provider}").inc()
        logger.info("signed in with %s user=%s", provider, user.id)
        return pair

    def _user_for_identity(self, session: Session, identity: OAuthIdentity, now: datetime) -> User:
        """The linked user; else the user with that (verified) email, linked; else a new one."""
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
            user.google_sub = identity.subject
            user.updated_at = now
            return user
        user = User(
            id=new_id(),
            email=identity.email,
            name=identity.name,
            password_hash=None,
            google_sub=identity.subject,
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
        return user

    # internals ------------------------------------------------------------------------------

    def _limit_ip(self, api: ApiContext, client_ip: str) -> None:
        """Per-IP limit on every credential endpoint; without its store it fails closed."""
        try:
            hit = api.limiter.hit(
                f"auth-ip:{client_ip}",
                limit=api.settings.auth_rate_limit_per_minute,
                window_seconds=60,
            )
        except LimiterUnavailable:
            raise ServiceUnavailable("Sign-in is temporarily unavailable") from None
        if not hit.allowed:
            api.metrics.auth_events.labels("ip_rate_limited").inc()
            raise TooManyRequests(hit.reset_after, "Too many authentication requests")

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
                user_id=user_id, session_id=session_id, org_id=org_id, role=role, now=now
            ),
            refresh_token=api.tokens.refresh_token(
                user_id=user_id, session_id=session_id, jti=jti, expires_at=expires_at, now=now
            ),
            expires_in=int(ACCESS_TTL.total_seconds()),
        )


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


auth_service = AuthService()


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
