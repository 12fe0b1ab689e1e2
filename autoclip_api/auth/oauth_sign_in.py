"""Signing in with an OAuth provider (Google: OpenID Connect with PKCE), and linking or
unlinking the provider's account to an AutoClip account.

The flow's state is single-use and bound to the client's PKCE challenge; a provider's verified
address is linked to an existing account only when its owner proved that address to us."""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from autoclip_api.auth import audit
from autoclip_api.auth.limits import limit_auth_calls
from autoclip_api.auth.notices import SecurityNotice
from autoclip_api.auth.oauth import (
    OAuthIdentity,
    OAuthRejectedError,
    OAuthUnavailableError,
    pkce_challenge,
)
from autoclip_api.auth.recent import require_recent_auth
from autoclip_api.auth.repository import OAuthStateRepository
from autoclip_api.auth.schemas import (
    OAuthAuthorization,
    OAuthAuthorizeRequest,
    OAuthCallbackRequest,
    TokenPair,
)
from autoclip_api.auth.sessions import INVALID_TOKEN, record_sign_in, session_service
from autoclip_api.auth.sign_up import add_owner_with_org
from autoclip_api.auth.subject import AuthSubject
from autoclip_api.auth.tokens import digest
from autoclip_api.context import ApiContext
from autoclip_api.core.errors import BadGateway, BadRequest, Conflict, NotFound, Unauthorized
from autoclip_api.organizations.repository import MembershipRepository
from autoclip_api.users.repository import UserRepository
from autoclip_core.db.models import OAuthState, User, new_id, utcnow

logger = logging.getLogger("autoclip_api.auth")

OAUTH_STATE_TTL = timedelta(minutes=10)

UNPROVEN_ACCOUNT = (
    "An account with this e-mail address exists: sign in with your password and link Google "
    "from your settings (forgot the password? POST /api/v1/auth/password/forgot)"
)


class OAuthSignInService:
    def authorize(
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

    def sign_in(
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
        pair = session_service.open_member_session(session, api, user.id, membership, now)
        record_sign_in(session, user.id, membership, client_ip, provider)
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
        add_owner_with_org(
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


oauth_sign_in_service = OAuthSignInService()
