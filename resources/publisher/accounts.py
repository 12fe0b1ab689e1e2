"""Channel accounts backed by the app database: what the ``publication`` step hands a
publisher for each channel — the ``ChannelAccount`` (settings, sealed tokens, YouTube quota)
and the upload's journal (its row in ``uploads``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from autoclip_core.crypto import TokenCipher, decode_key
from autoclip_core.db.channels import ChannelRepository, ChannelState
from autoclip_core.db.engine import Database
from autoclip_core.db.locks import held
from autoclip_core.db.models import Channel
from autoclip_core.db.quota import (
    QuotaModel,
    QuotaPolicy,
    QuotaRepository,
    QuotaWindowFull,
    next_window,
)
from autoclip_core.db.uploads import UploadRepository
from resources.errors import QuotaExhausted
from resources.publisher.base import (
    ChannelAccount,
    ChannelSettings,
    OAuthTokens,
    QuotaLedger,
    TokenStore,
    UploadJournal,
)


class DatabaseJournal(UploadJournal):
    """The journal of one (item, channel) upload: the ``journal`` column of its row."""

    def __init__(self, database: Database, content_id: str, channel: str) -> None:
        self._uploads = UploadRepository(database)
        self._key = (content_id, channel)

    def load(self) -> dict[str, Any]:
        return self._uploads.journal(*self._key)

    def save(self, **values: Any) -> None:
        self._uploads.save_journal(*self._key, values)


class DatabaseTokenStore(TokenStore):
    """A channel's sealed tokens in its row; refreshes serialised by a lock that holds across
    processes (``autoclip_core.db.locks``)."""

    def __init__(self, database: Database, cipher: TokenCipher, channel_id: str) -> None:
        self._database = database
        self._channels = ChannelRepository(database, cipher=cipher)
        self._channel_id = channel_id

    def current(self) -> OAuthTokens:
        stored = self._channels.tokens_of(self._channel_id)
        return OAuthTokens(stored.access_token, stored.refresh_token, stored.expires_at)

    @contextmanager
    def refreshing(self) -> Iterator[OAuthTokens]:
        with held(self._database.engine, f"channel-refresh:{self._channel_id}"):
            yield self.current()

    def save(
        self, *, access_token: str, refresh_token: str | None, expires_at: datetime | None
    ) -> None:
        self._channels.store_refreshed(
            self._channel_id,
            access_token=access_token,
            refresh_token=refresh_token,
            expires_at=expires_at,
        )

    def reconnect_required(self, reason: str) -> None:
        self._channels.reconnect_required(self._channel_id, reason)


class DatabaseQuota(QuotaLedger):
    """YouTube's quota of one Google API project, in the ``youtube_quota`` ledger."""

    def __init__(self, database: Database, api_project: str, policy: QuotaPolicy) -> None:
        self._quota = QuotaRepository(database)
        self._api_project = api_project
        self._policy = policy

    def spend(self, operation: str, count: int = 1) -> None:
        now = datetime.now(UTC)
        try:
            self._quota.charge(self._api_project, self._policy, operation, now, count)
        except QuotaWindowFull as full:
            raise _wait(full, now) from None

    def exhausted(self, operation: str) -> None:
        now = datetime.now(UTC)
        self._quota.exhausted(self._api_project, self._policy, operation, now)
        raise _wait(
            QuotaWindowFull(
                f"YouTube refused {operation} for quota: nothing more of it today (Pacific)",
                until=next_window(now),
            ),
            now,
        )


def _wait(full: QuotaWindowFull, now: datetime) -> QuotaExhausted:
    return QuotaExhausted(
        str(full), retry_after=max(0.0, (full.until - now).total_seconds()), until=full.until
    )


class ChannelAccounts(dg.ConfigurableResource):
    """Resolves the channels the pipeline publishes to (slugs) into ``ChannelAccount``s.

    A slug is a channel row's (an organisation's channel, or one configured in settings:
    ``youtube``/``tiktok`` with a refresh token here), else a local folder."""

    token_key: str | None = Field(
        default=None, repr=False, description="Base64 of the AES-GCM key of channels' tokens."
    )
    token_key_file: str | None = Field(
        default=None, description="A file holding that key (the key generated in local mode)."
    )
    youtube_api_project: str = Field(
        default="default", description="The Google OAuth client id: whose quota uploads spend."
    )
    youtube_refresh_token: str | None = Field(default=None, repr=False)
    tiktok_refresh_token: str | None = Field(default=None, repr=False)
    quota_model: QuotaModel = "upload_bucket"
    daily_units: int = 10_000
    daily_uploads: int = 100
    unit_costs: dict[str, int] = Field(default_factory=dict)

    @property
    def quota_policy(self) -> QuotaPolicy:
        return QuotaPolicy(
            self.quota_model, self.daily_units, self.daily_uploads, dict(self.unit_costs)
        )

    def cipher(self) -> TokenCipher:
        if self.token_key is not None:
            return TokenCipher(decode_key(self.token_key))
        if self.token_key_file is None:
            raise ValueError("ChannelAccounts needs token_key or token_key_file")
        return TokenCipher(decode_key(Path(self.token_key_file).read_text()))

    def account(self, database: Database, slug: str) -> ChannelAccount:
        channels = ChannelRepository(database, cipher=self.cipher())
        row = channels.by_slug(slug)
        headless = {"youtube": self.youtube_refresh_token, "tiktok": self.tiktok_refresh_token}
        if (row is None or row.org_id is None) and headless.get(slug):
            row = channels.ensure_headless(slug, str(headless[slug]))  # type: ignore[arg-type]
        if row is None or row.platform == "local":
            return ChannelAccount(slug=slug, platform="local", channel_id=row.id if row else None)
        return self._remote(database, row)

    def journal(self, database: Database, content_id: str, slug: str) -> UploadJournal:
        return DatabaseJournal(database, content_id, slug)

    def _remote(self, database: Database, row: Channel) -> ChannelAccount:
        quota = None
        if row.platform == "youtube":
            quota = DatabaseQuota(database, self.youtube_api_project, self.quota_policy)
        return ChannelAccount(
            slug=row.slug,
            platform=row.platform,  # type: ignore[arg-type]
            settings=ChannelSettings.model_validate(row.settings or {}),
            tokens=DatabaseTokenStore(database, self.cipher(), row.id),
            quota=quota,
            channel_id=row.id,
            reconnect_required=row.state == ChannelState.RECONNECT_REQUIRED,
        )
