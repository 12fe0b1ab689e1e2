"""Everything a request needs that outlives it: built once per app from the settings."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from autoclip_api.auth.notices import MailNotifier, Notifier
from autoclip_api.auth.oauth import GoogleProvider, OAuthProvider
from autoclip_api.auth.passwords import Passwords
from autoclip_api.auth.repository import SessionContext
from autoclip_api.auth.tokens import TokenCodec
from autoclip_api.channels.connect import ChannelConnector
from autoclip_api.channels.connectors import connectors
from autoclip_api.core.cache import VersionedCache
from autoclip_api.core.db import make_sessionmaker
from autoclip_api.core.metrics import Metrics
from autoclip_api.core.ratelimit import LimiterUnavailable, RateLimiter, make_rate_limiter
from autoclip_api.core.secrets import jwt_secret
from autoclip_api.dagster.client import DagsterClient
from autoclip_api.email.mailer import Mailer
from autoclip_api.templates.preview import PreviewRenderer
from autoclip_core.cache_versions import Publisher
from autoclip_core.crypto import TokenCipher, channel_token_key
from autoclip_core.db.engine import Database, make_engine
from autoclip_core.db.migrate import check_current
from autoclip_core.settings import Settings

logger = logging.getLogger("autoclip_api.cache")

# Safety nets only: a committed change reaches every process's caches on the next request
# through the cache versions (autoclip_core/cache_versions.py). These bound what a lost version
# bump (Redis failing at that very moment) or a write made outside the repositories (SQL by
# hand) can leave behind.
AUTH_CACHE_MAX_AGE_SECONDS = 5.0
ORG_CACHE_MAX_AGE_SECONDS = 60.0


@dataclass
class ApiContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    """Request sessions (``SessionDep``): the caller commits."""
    database: Database
    """Transactions of their own on the same engine (the webhook's intake retries one); their
    commits bump the cache versions as the request sessions' do."""
    limiter: RateLimiter
    tokens: TokenCodec
    passwords: Passwords
    metrics: Metrics
    http: httpx.Client
    # A login's state by ``sid`` (None: not live), at its user's version (``user_scope``).
    auth_cache: VersionedCache[str, SessionContext | None]
    # Answers about one organisation's data (JSON bytes), at its version (``org_scope``).
    org_cache: VersionedCache[Hashable, bytes]
    # Mail to people (verification, resets, invitations): the ``email`` capability.
    mailer: Mailer
    # Security notices to account holders (auth/notices.py), mailed through ``mailer``.
    notifier: Notifier
    # Template previews: rendered on the thread pool, a few at once (templates/preview.py).
    previews: PreviewRenderer
    # Seals and opens channels' OAuth tokens (autoclip_core/crypto.py).
    channel_tokens: TokenCipher
    # Dagster's GraphQL endpoint: runs are submitted there (dagster/outbox.py).
    dagster: DagsterClient
    oauth: dict[str, OAuthProvider] = field(default_factory=dict)
    # Platforms whose channels connect through OAuth here (channels/connectors.py).
    channel_connectors: dict[str, ChannelConnector] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiContext:
        secret = jwt_secret(settings)  # refuses a missing secret before the database is read
        mailer = Mailer.from_settings(settings)  # refuses an unusable SMTP setting
        channel_tokens = TokenCipher(channel_token_key(settings))  # refuses a missing prod key
        engine = make_engine(settings.app_database_url)
        # Migrating is a step of its own (``python -m autoclip_api migrate``): a process on its
        # way up only checks.
        try:
            check_current(engine)
        except Exception:
            engine.dispose()
            raise
        oauth: dict[str, OAuthProvider] = {}
        if settings.google_client_id and settings.google_client_secret:
            oauth["google"] = GoogleProvider(
                client_id=settings.google_client_id,
                client_secret=settings.google_client_secret.get_secret_value(),
                authorization_endpoint=settings.google_authorization_endpoint,
                token_endpoint=settings.google_token_endpoint,
                issuer=settings.google_issuer,
            )
        limiter = make_rate_limiter(settings.redis_url)
        auth_cache: VersionedCache[str, SessionContext | None] = VersionedCache(
            max_entries=10_000, max_age_seconds=AUTH_CACHE_MAX_AGE_SECONDS
        )
        org_cache: VersionedCache[Hashable, bytes] = VersionedCache(
            max_entries=256, max_age_seconds=ORG_CACHE_MAX_AGE_SECONDS
        )
        bump = _bump_versions(limiter, [auth_cache, org_cache])
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine, on_commit=bump),
            database=Database(engine, on_commit=bump),
            limiter=limiter,
            tokens=TokenCodec(
                secret, issuer=settings.jwt_issuer, audience=settings.jwt_audience
            ),
            passwords=Passwords(
                time_cost=settings.password_hash_time_cost,
                memory_kib=settings.password_hash_memory_kib,
                parallelism=settings.password_hash_parallelism,
            ),
            metrics=Metrics(),
            http=httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0), follow_redirects=False),
            auth_cache=auth_cache,
            org_cache=org_cache,
            mailer=mailer,
            notifier=MailNotifier(mailer),
            previews=PreviewRenderer.from_settings(settings),
            channel_tokens=channel_tokens,
            dagster=DagsterClient(settings.dagster_graphql_url, settings.dagster_location),
            oauth=oauth,
            channel_connectors=connectors(settings),
        )

    def close(self) -> None:
        self.dagster.close()
        self.mailer.close()
        self.http.close()
        self.limiter.close()
        self.engine.dispose()

    async def aclose(self) -> None:
        await self.limiter.aclose()
        self.close()


def _bump_versions(limiter: RateLimiter, caches: Sequence[VersionedCache[Any, Any]]) -> Publisher:
    """After a commit: new versions for the scopes it changed. If the limiter store cannot take
    them, this process drops its own caches at once and the others' entries age out."""

    def bump(scopes: list[str]) -> None:
        try:
            limiter.bump(scopes)
        except LimiterUnavailable:
            logger.warning(
                "cache versions not bumped (Redis unreachable): other processes may "
                "serve sign-in state for up to %.0f s and organisation data for up to %.0f s",
                AUTH_CACHE_MAX_AGE_SECONDS,
                ORG_CACHE_MAX_AGE_SECONDS,
            )
            for cache in caches:
                cache.invalidate_all()

    return bump


async def get_api(request: Request) -> ApiContext:
    api: ApiContext = request.app.state.api
    return api


ApiDep = Annotated[ApiContext, Depends(get_api)]
