"""A login's session and its token pair: opened at sign-in, checked on every request,
rotated on refresh (the same new pair for two tabs refreshing at once, within the grace),
revoked at logout or when a used refresh token comes back."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from autoclip_api.auth import audit
from autoclip_api.auth.limits import limit_auth_calls
from autoclip_api.auth.permissions import Role
from autoclip_api.auth.repository import (
    AuthSessionRepository,
    RefreshTokenRepository,
    SessionContext,
)
from autoclip_api.auth.schemas import TokenPair
from autoclip_api.auth.subject import AuthSubject
from autoclip_api.auth.tokens import ACCESS_TTL, REFRESH_TTL, AccessClaims, InvalidTokenError
from autoclip_api.context import ApiContext
from autoclip_api.core.errors import Unauthorized
from autoclip_api.core.types import as_utc
from autoclip_core.db.models import AuthSession, Membership, RefreshToken, new_id, utcnow

logger = logging.getLogger("autoclip_api.auth")

INVALID_TOKEN = "Invalid or expired token"


class SessionService:
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

    def open_member_session(
        self,
        session: Session,
        api: ApiContext,
        user_id: str,
        membership: Membership | None,
        now: datetime,
    ) -> TokenPair:
        """A new login in the membership's organisation (or in none)."""
        if membership is None:
            return self.open_session(session, api, user_id, None, None, now)
        return self.open_session(
            session, api, user_id, membership.org_id, Role(membership.role), now
        )

    def open_session(
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


session_service = SessionService()


def record_sign_in(
    session: Session, user_id: str, membership: Membership | None, client_ip: str, method: str
) -> None:
    audit.record(
        session, "login.succeeded", user_id=user_id,
        org_id=membership.org_id if membership else None, client_ip=client_ip, method=method,
    )  # fmt: skip
