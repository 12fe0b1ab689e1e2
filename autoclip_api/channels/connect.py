"""Connecting a YouTube or TikTok channel: OAuth 2.0 authorization code with PKCE.

``start`` makes a state (the only copy we keep is its hash) and a PKCE verifier, bound to the
organisation, the channel and the person who asked, valid for ``AUTHORIZATION_TTL``; the
answer is the platform's consent URL. The platform redirects the owner's browser to
``GET /channels/oauth/{platform}/callback?code&state``: ``finish`` takes the pending
authorisation (once: a second use of the state is unknown), exchanges the code with our
verifier, stores the tokens sealed, reads the account's identity and makes the channel
``active``.

A platform's ``ChannelConnector`` speaks its OAuth (``connectors.py``).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from autoclip_api.core.errors import BadGateway, BadRequest, NotFound
from autoclip_core.crypto import TokenCipher
from autoclip_core.db.channels import ChannelRepository
from autoclip_core.db.models import Channel, ChannelAuthorization

AUTHORIZATION_TTL = timedelta(minutes=10)
UNKNOWN_STATE = "The authorization is unknown, already used or expired: connect the channel again"


@dataclass(frozen=True)
class ConnectedAccount:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    identity: dict[str, str]
    """The account on the platform: ``id`` and ``name`` at least."""


class ConnectError(Exception):
    """The platform refused the code or could not be reached."""


class ChannelConnector(Protocol):
    def authorization_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str: ...

    def connect(self, *, code: str, redirect_uri: str, code_verifier: str) -> ConnectedAccount:
        """Exchange ``code`` and read who granted it; ``ConnectError`` when refused."""
        ...


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def new_verifier() -> str:
    """A PKCE code verifier: 43–128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(64)).rstrip(b"=").decode()


def start(
    session: Session,
    connector: ChannelConnector,
    channel: Channel,
    *,
    user_id: str,
    redirect_uri: str,
    now: datetime | None = None,
) -> str:
    """The consent URL for ``channel``'s owner (the pending authorisation joins the session's
    transaction; the caller commits)."""
    now = now or datetime.now(UTC)
    state = secrets.token_urlsafe(32)
    verifier = new_verifier()
    session.add(
        ChannelAuthorization(
            state_hash=state_hash(state),
            platform=channel.platform,
            org_id=channel.org_id,
            channel_id=channel.id,
            user_id=user_id,
            code_verifier=verifier,
            redirect_uri=redirect_uri,
            expires_at=now + AUTHORIZATION_TTL,
        )
    )
    return connector.authorization_url(
        redirect_uri=redirect_uri, state=state, code_verifier=verifier
    )


def finish(
    session: Session,
    connector: ChannelConnector,
    cipher: TokenCipher,
    *,
    platform: str,
    state: str,
    code: str,
    now: datetime | None = None,
) -> Channel:
    """The channel the authorisation of ``state`` was for, connected (the caller commits the
    tokens; the state is spent at once)."""
    now = now or datetime.now(UTC)
    channels = ChannelRepository(session, cipher=cipher)
    pending = channels.take_authorization(state_hash(state), platform, now)
    channel = session.get(Channel, pending.channel_id) if pending is not None else None
    if pending is None or channel is None or channel.org_id != pending.org_id:
        raise NotFound(UNKNOWN_STATE)
    session.commit()  # the state is spent, also when the platform refuses its code
    try:
        account = connector.connect(
            code=code, redirect_uri=pending.redirect_uri, code_verifier=pending.code_verifier
        )
    except ConnectError as refused:
        raise BadGateway(f"{platform} did not complete the authorization: {refused}") from None
    channels.set_tokens(
        channel,
        access_token=account.access_token,
        refresh_token=account.refresh_token,
        expires_at=account.expires_at,
    )
    channels.set_identity(channel, account.identity)
    return channel


def refused(platform: str, error: str, description: str | None) -> BadRequest:
    """The owner declined (``error=access_denied``) or the platform reported an error."""
    detail = f": {description}" if description else ""
    return BadRequest(f"{platform} authorization was not granted ({error}){detail}")
