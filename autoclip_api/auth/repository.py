"""Sessions (logins), refresh tokens, pending OAuth authorizations and mailed tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, delete, select, update
from sqlalchemy.orm import Session

from autoclip_core.cache_versions import changed, user_scope
from autoclip_core.db.models import (
    AuthSession,
    EmailToken,
    Membership,
    OAuthState,
    RefreshToken,
)


@dataclass(frozen=True, slots=True)
class SessionContext:
    """What one request needs to know about its login, read in one query."""

    session_id: str
    user_id: str
    org_id: str | None
    role: str | None
    expires_at: datetime


SESSIONS = cast(Table, AuthSession.__table__)
MEMBERSHIPS = cast(Table, Membership.__table__)


class AuthSessionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, auth_session: AuthSession) -> AuthSession:
        self.session.add(auth_session)
        self.session.flush()
        return auth_session

    def active_context(self, session_id: str, user_id: str, now: datetime) -> SessionContext | None:
        """The live session with the user's CURRENT role in its organisation (None: not live).

        What every request's authentication rests on, read afresh after any change to the
        user's sessions or memberships (every such write marks ``user_scope``), so a
        revocation or a role change applies to the next request.
        """
        # Core columns, not ORM entities: this runs on every authenticated request.
        row = self.session.execute(
            select(SESSIONS.c.org_id, SESSIONS.c.expires_at, MEMBERSHIPS.c.role)
            .select_from(
                SESSIONS.outerjoin(
                    MEMBERSHIPS,
                    and_(
                        MEMBERSHIPS.c.user_id == SESSIONS.c.user_id,
                        MEMBERSHIPS.c.org_id == SESSIONS.c.org_id,
                    ),
                )
            )
            .where(
                SESSIONS.c.id == session_id,
                SESSIONS.c.user_id == user_id,
                SESSIONS.c.revoked_at.is_(None),
                SESSIONS.c.expires_at > now,
            )
        ).first()
        if row is None:
            return None
        return SessionContext(session_id, user_id, row.org_id, row.role, row.expires_at)

    def authenticated_at(self, session_id: str, user_id: str) -> datetime | None:
        """When the live session's user last proved who they are (None: not live)."""
        return self.session.scalar(
            select(AuthSession.authenticated_at).where(
                AuthSession.id == session_id,
                AuthSession.user_id == user_id,
                AuthSession.revoked_at.is_(None),
            )
        )

    def authenticated(self, session_id: str, now: datetime) -> None:
        self.session.execute(
            update(AuthSession).where(AuthSession.id == session_id).values(authenticated_at=now)
        )

    def revoke(self, user_id: str, session_id: str, *, reason: str, now: datetime) -> None:
        self.session.execute(
            update(AuthSession)
            .where(
                AuthSession.id == session_id,
                AuthSession.user_id == user_id,
                AuthSession.revoked_at.is_(None),
            )
            .values(revoked_at=now, revoked_reason=reason)
        )
        changed(self.session, user_scope(user_id))

    def revoke_all(
        self,
        user_id: str,
        *,
        reason: str,
        now: datetime,
        org_id: str | None = None,
        keep: str | None = None,
    ) -> None:
        statement = update(AuthSession).where(
            AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
        )
        if org_id is not None:
            statement = statement.where(AuthSession.org_id == org_id)
        if keep is not None:
            statement = statement.where(AuthSession.id != keep)
        self.session.execute(statement.values(revoked_at=now, revoked_reason=reason))
        changed(self.session, user_scope(user_id))

    def purge_expired(self, user_id: str, now: datetime) -> None:
        self.session.execute(
            delete(AuthSession).where(AuthSession.user_id == user_id, AuthSession.expires_at < now)
        )


class RefreshTokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, jti: str, session_id: str, now: datetime) -> None:
        self.session.add(RefreshToken(jti=jti, session_id=session_id, issued_at=now))

    def rotate(self, jti: str, session_id: str, successor: str, now: datetime) -> bool:
        """Marks the token used, replaced by ``successor``; False if it was already used (or
        never issued).

        One conditional UPDATE: of two concurrent uses of one token, exactly one wins.
        """
        result = self.session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.jti == jti,
                RefreshToken.session_id == session_id,
                RefreshToken.used_at.is_(None),
            )
            .values(used_at=now, successor_jti=successor)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]

    def get(self, jti: str, session_id: str) -> RefreshToken | None:
        return self.session.scalar(
            select(RefreshToken).where(
                RefreshToken.jti == jti, RefreshToken.session_id == session_id
            )
        )


class OAuthStateRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, state: OAuthState, now: datetime) -> None:
        self.session.execute(delete(OAuthState).where(OAuthState.expires_at < now))
        self.session.add(state)

    def pop(self, state_hash: str, provider: str, now: datetime) -> OAuthState | None:
        """The pending authorization, consumed: a state works once, then never again."""
        state = self.session.scalar(
            select(OAuthState)
            .where(
                OAuthState.state_hash == state_hash,
                OAuthState.provider == provider,
                OAuthState.expires_at > now,
            )
            .with_for_update()
        )
        if state is not None:
            self.session.delete(state)
            self.session.flush()
        return state


class EmailTokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def replace(self, token: EmailToken) -> None:
        """Stores the token; the user's earlier ones for the same purpose stop working (only
        the newest mail's link does)."""
        self.session.execute(
            delete(EmailToken).where(
                EmailToken.user_id == token.user_id, EmailToken.purpose == token.purpose
            )
        )
        self.session.add(token)

    def redeem(
        self, token_hash: str, purposes: tuple[str, ...], now: datetime
    ) -> EmailToken | None:
        """The token, used up: one conditional UPDATE, so of two concurrent uses one wins.
        None when it is unknown, expired, already used or for another purpose."""
        used = self.session.execute(
            update(EmailToken)
            .where(
                EmailToken.token_hash == token_hash,
                EmailToken.purpose.in_(purposes),
                EmailToken.used_at.is_(None),
                EmailToken.expires_at > now,
            )
            .values(used_at=now)
        )
        if used.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return self.session.get(EmailToken, token_hash)

    def forget(self, user_id: str, purpose: str) -> None:
        self.session.execute(
            delete(EmailToken).where(EmailToken.user_id == user_id, EmailToken.purpose == purpose)
        )
