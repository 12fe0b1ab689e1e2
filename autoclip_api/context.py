"""Everything a request needs that outlives it: built once per app from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import httpx
from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from autoclip_api.auth.oauth import GoogleProvider, OAuthProvider
from autoclip_api.auth.passwords import Passwords
from autoclip_api.auth.tokens import TokenCodec
from autoclip_api.core.db import make_engine, make_sessionmaker
from autoclip_api.core.metrics import Metrics
from autoclip_api.core.ratelimit import RateLimiter, make_rate_limiter
from autoclip_api.core.secrets import jwt_secret
from autoclip_core.settings import Settings

FAILED_LOGIN_LIMIT = 5
FAILED_LOGIN_WINDOW_SECONDS = 15 * 60


@dataclass
class ApiContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    limiter: RateLimiter
    tokens: TokenCodec
    passwords: Passwords
    metrics: Metrics
    http: httpx.Client
    oauth: dict[str, OAuthProvider] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiContext:
        engine = make_engine(settings.app_database_url)
        oauth: dict[str, OAuthProvider] = {}
        if settings.google_client_id and settings.google_client_secret:
            oauth["google"] = GoogleProvider(
                client_id=settings.google_client_id,
                client_secret=settings.google_client_secret.get_secret_value(),
                authorization_endpoint=settings.google_authorization_endpoint,
                token_endpoint=settings.google_token_endpoint,
                issuer=settings.google_issuer,
            )
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            limiter=make_rate_limiter(settings.redis_url),
            tokens=TokenCodec(
                jwt_secret(settings), issuer=settings.jwt_issuer, audience=settings.jwt_audience
            ),
            passwords=Passwords(
                time_cost=settings.password_hash_time_cost,
                memory_kib=settings.password_hash_memory_kib,
                parallelism=settings.password_hash_parallelism,
            ),
            metrics=Metrics(),
            http=httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0), follow_redirects=False),
            oauth=oauth,
        )

    def close(self) -> None:
        self.http.close()
        self.limiter.close()
        self.engine.dispose()


async def get_api(request: Request) -> ApiContext:
    api: ApiContext = request.app.state.api
    return api


ApiDep = Annotated[ApiContext, Depends(get_api)]
