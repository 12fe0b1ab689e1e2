"""Channels: where a project's videos are published, and their sealed OAuth tokens.

An organisation's project lists the ids of the channels it publishes to
(``Project.channels``); the pipeline publishes to their ``slug``s
(:func:`publish_targets`). A project of the sources file (no organisation) names its
channels directly: local folders, or ``youtube``/``tiktok`` for the channels configured in
settings (:meth:`ChannelRepository.ensure_headless`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, cast

from sqlalchemy import Select, Table, delete, false, select
from sqlalchemy.orm import Session

from autoclip_core.crypto import TokenCipher
from autoclip_core.db.engine import Database, Repository, aware
from autoclip_core.db.models import (
    AuditEvent,
    Channel,
    ChannelAuthorization,
    Project,
    new_id,
    utcnow,
)

CHANNELS = cast(Table, Channel.__table__)
Platform = Literal["local", "youtube", "tiktok"]
PLATFORMS: tuple[Platform, ...] = ("local", "youtube", "tiktok")
TOKEN_COLUMNS = ("access_token", "refresh_token")


class ChannelState(StrEnum):
    ACTIVE = "active"
    """Publishing works (a local folder; an authorised account)."""
    NEEDS_AUTHORIZATION = "needs_authorization"
    """An account the organisation has not yet connected through OAuth."""
    RECONNECT_REQUIRED = "reconnect_required"
    """The platform refused the stored authorisation (``invalid_grant``, revoked): its uploads
    wait until someone connects the account again."""


PUBLISHING_STATES = (ChannelState.ACTIVE, ChannelState.RECONNECT_REQUIRED)
"""Channels an item is routed to (a reconnect_required one: its upload waits there)."""
RECONNECT_EVENT = "channel.reconnect_required"
"""The audit event a channel's lost authorisation leaves for notifications."""


def initial_state(platform: Platform) -> ChannelState:
    return ChannelState.ACTIVE if platform == "local" else ChannelState.NEEDS_AUTHORIZATION


@dataclass(frozen=True)
class ChannelTokens:
    access_token: str | None
    refresh_token: str | None
    expires_at: datetime | None


def publish_targets(
    s: Session, project: Project, channel_ids: Sequence[str] | None = None
) -> list[str]:
    """What the publisher is handed for ``project``: the slugs of its listed channels that
    publish (connected, or waiting for a reconnect), in the project's order (a sources-file
    project: its channel names). ``channel_ids``: these of the project's channels instead
    (an item's own)."""
    listed = list(project.channels or []) if channel_ids is None else list(channel_ids)
    if project.org_id is None:
        return listed or ["local"]
    if not listed:
        return []
    rows = s.execute(
        select(Channel.id, Channel.slug).where(
            Channel.project_id == project.id,
            Channel.id.in_(listed),
            Channel.state.in_(PUBLISHING_STATES),
        )
    ).all()
    slugs = {channel_id: slug for channel_id, slug in rows}
    return [slugs[i] for i in listed if i in slugs]


class ChannelRepository(Repository):
    """``cipher`` seals and opens the token columns (needed only by the token methods);
    ``on_change`` is called with the organisation of every channel a write touches."""

    def __init__(
        self,
        bind: Database | Session,
        *,
        cipher: TokenCipher | None = None,
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(bind)
        self._cipher = cipher
        self._on_change = on_change

    @staticmethod
    def get_readable_statement(org_id: str | None) -> Select[Any]:
        """THE tenant scope of channels: the rows organisation ``org_id`` owns."""
        statement = select(Channel)
        if org_id is None:
            return statement.where(false())
        return statement.where(CHANNELS.c.org_id == org_id)

    def of_project(self, org_id: str | None, project_id: str) -> Sequence[Channel]:
        with self._session() as s:
            return s.scalars(
                self.get_readable_statement(org_id)
                .where(CHANNELS.c.project_id == project_id)
                .order_by(CHANNELS.c.created_at, CHANNELS.c.id)
            ).all()

    def get_readable(self, org_id: str | None, project_id: str, channel_id: str) -> Channel | None:
        with self._session() as s:
            return s.scalar(
                self.get_readable_statement(org_id).where(
                    CHANNELS.c.project_id == project_id, CHANNELS.c.id == channel_id
                )
            )

    def unknown(self, project: Project, channel_ids: Iterable[str]) -> list[str]:
        """The ids among ``channel_ids`` that are no channel of ``project``."""
        wanted = list(dict.fromkeys(channel_ids))
        if not wanted:
            return []
        with self._session() as s:
            known = set(
                s.scalars(
                    select(Channel.id).where(
                        Channel.project_id == project.id, Channel.id.in_(wanted)
                    )
                )
            )
        return [i for i in wanted if i not in known]

    def publish_targets(self, project: Project) -> list[str]:
        with self._session() as s:
            return publish_targets(s, project)

    def add(self, channel: Channel, project: Project) -> Channel:
        """Stores the channel and lists it among the project's channels."""
        with self._session() as s:
            s.add(channel)
            project.channels = [*(project.channels or []), channel.id]
            s.add(project)
            s.flush()
        self._changed(channel)
        return channel

    def delete(self, channel: Channel, project: Project) -> None:
        """Removes the channel and its id from the project's channels."""
        with self._session() as s:
            project.channels = [i for i in project.channels or [] if i != channel.id]
            s.add(project)
            s.delete(channel)
            s.flush()
        self._changed(channel)

    def by_slug(self, slug: str) -> Channel | None:
        """The channel publishing as ``slug`` (any organisation's, or one from settings): for
        the pipeline, which is handed slugs."""
        with self._session() as s:
            return s.scalar(select(Channel).where(Channel.slug == slug))

    def ensure_headless(self, platform: Platform, refresh_token: str) -> Channel:
        """The channel configured in settings for ``platform`` (slug: the platform's name),
        created with ``refresh_token``. Its stored tokens are kept — a rotated refresh token is
        used from then on — until settings name a different token than the one it started
        from."""
        seed = hashlib.sha256(refresh_token.encode()).hexdigest()
        with self._session() as s:
            channel = s.scalar(
                select(Channel).where(Channel.slug == platform, Channel.org_id.is_(None))
            )
            if channel is None:
                channel = Channel(
                    id=new_id(),
                    org_id=None,
                    project_id=None,
                    platform=platform,
                    name=f"{platform} (settings)",
                    slug=platform,
                    settings={},
                    state=ChannelState.ACTIVE,
                    created_at=utcnow(),
                )
                s.add(channel)
            elif (channel.settings or {}).get("seed") == seed:
                return channel
            self._seal_into(channel, access_token=None, refresh_token=refresh_token)
            channel.token_expires_at = None
            channel.settings = {**(channel.settings or {}), "seed": seed}
            channel.state = ChannelState.ACTIVE
            channel.updated_at = utcnow()
            s.flush()
            return channel

    # authorisations in progress ---------------------------------------------------------------

    def take_authorization(
        self, state_hash: str, platform: str, now: datetime
    ) -> ChannelAuthorization | None:
        """The pending authorisation of this state and platform, removed (a state is good
        once); None when unknown, used or expired. Expired ones are cleared on the way."""
        with self._session() as s:
            s.execute(delete(ChannelAuthorization).where(ChannelAuthorization.expires_at <= now))
            pending = s.scalar(
                select(ChannelAuthorization).where(
                    ChannelAuthorization.state_hash == state_hash,
                    ChannelAuthorization.platform == platform,
                )
            )
            if pending is None:
                return None
            s.expunge(pending)
            taken = s.execute(
                delete(ChannelAuthorization).where(ChannelAuthorization.state_hash == state_hash)
            )
            return pending if taken.rowcount == 1 else None  # type: ignore[attr-defined]

    # tokens ---------------------------------------------------------------------------------

    def set_tokens(
        self,
        channel: Channel,
        *,
        access_token: str | None,
        refresh_token: str | None,
        expires_at: datetime | None,
    ) -> None:
        """Seals and stores the channel's tokens; the channel can then publish."""
        with self._session() as s:
            self._seal_into(channel, access_token=access_token, refresh_token=refresh_token)
            channel.token_expires_at = expires_at
            channel.state = ChannelState.ACTIVE
            channel.updated_at = utcnow()
            s.add(channel)
            s.flush()
        self._changed(channel)

    def store_refreshed(
        self,
        channel_id: str,
        *,
        access_token: str,
        refresh_token: str | None,
        expires_at: datetime | None,
    ) -> None:
        """Tokens a refresh returned (``refresh_token`` None: the stored one stays)."""
        with self._session() as s:
            channel = s.get_one(Channel, channel_id)
            self._seal_into(channel, access_token=access_token)
            if refresh_token is not None:
                self._seal_into(channel, refresh_token=refresh_token)
            channel.token_expires_at = expires_at
            channel.updated_at = utcnow()

    def tokens(self, channel: Channel) -> ChannelTokens:
        """The channel's tokens, opened (``TokenDecryptError`` when a ciphertext is not this
        channel's)."""
        cipher = self._require_cipher()
        opened = [
            None
            if sealed is None
            else cipher.decrypt(
                sealed, org_id=channel.org_id or "", channel_id=channel.id, column=column
            )
            for column, sealed in zip(
                TOKEN_COLUMNS, (channel.access_token, channel.refresh_token), strict=True
            )
        ]
        return ChannelTokens(opened[0], opened[1], aware(channel.token_expires_at))

    def tokens_of(self, channel_id: str) -> ChannelTokens:
        """The tokens as stored now (another process may have refreshed them)."""
        with self._session() as s:
            return self.tokens(s.get_one(Channel, channel_id))

    def reconnect_required(self, channel_id: str, reason: str) -> None:
        """The platform refused the channel's authorisation: it waits for a reconnect, and the
        event is recorded (``RECONNECT_EVENT``) for notifications."""
        with self._session() as s:
            channel = s.get_one(Channel, channel_id)
            channel.state = ChannelState.RECONNECT_REQUIRED
            channel.access_token = None
            channel.updated_at = utcnow()
            s.add(
                AuditEvent(
                    at=utcnow(),
                    event=RECONNECT_EVENT,
                    org_id=channel.org_id,
                    details={
                        "channel_id": channel.id,
                        "slug": channel.slug,
                        "platform": channel.platform,
                        "reason": reason[:500],
                    },
                )
            )
        if channel.org_id is not None and self._on_change is not None:
            self._on_change(channel.org_id)

    def set_identity(self, channel: Channel, identity: dict[str, Any]) -> None:
        """The account on the platform the channel was connected to."""
        with self._session() as s:
            channel.identity = identity
            channel.updated_at = utcnow()
            s.add(channel)
            s.flush()

    def _seal_into(self, channel: Channel, **tokens: str | None) -> None:
        cipher = self._require_cipher()
        for column, value in tokens.items():
            sealed = (
                None
                if value is None
                else cipher.encrypt(
                    value, org_id=channel.org_id or "", channel_id=channel.id, column=column
                )
            )
            setattr(channel, column, sealed)

    def _require_cipher(self) -> TokenCipher:
        if self._cipher is None:
            raise RuntimeError("this ChannelRepository was made without a token cipher")
        return self._cipher

    def _changed(self, channel: Channel) -> None:
        if self._on_change is not None and channel.org_id is not None:
            self._on_change(channel.org_id)
