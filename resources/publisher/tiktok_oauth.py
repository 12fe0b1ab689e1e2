"""TikTok's OAuth v2 (Login Kit), as TikTok for Developers documents it: the consent URL with
PKCE, the code exchange and the refresh at ``/v2/oauth/token/``, the access token of a
connected account kept fresh, and the creator's identity when a channel is connected.

Access tokens live 24 h and are refreshed under the account's ``TokenStore`` lock, so that no
two runs spend one refresh token: TikTok rotates the refresh token on every refresh, and the
new one is saved before the lock is released. ``invalid_grant`` means the authorisation is
gone: ``ReconnectRequired``.

The API connects channels with ``TikTokOAuth``; this module loads no Dagster.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from resources.errors import ReconnectRequired
from resources.publisher.tiktok_api import (
    CreatorInfo,
    TikTokAPI,
    TikTokError,
    answer_json,
    bad_body,
    retry_after_of,
    transport_failure,
)
from resources.vendors.http import redact

if TYPE_CHECKING:
    from resources.publisher.base import TokenStore

AUTHORIZE_URL = "https://www.tiktok.com/v2/auth/authorize/"
SCOPES = ("user.info.basic", "video.publish", "video.upload", "video.list")
"""What publishing asks for; ``video.list`` is for ``video/query`` (the statistics)."""


def code_challenge(code_verifier: str) -> str:
    """The PKCE challenge as TikTok's Login Kit for Desktop computes it: hex SHA-256."""
    return hashlib.sha256(code_verifier.encode()).hexdigest()


def authorization_url(
    *,
    client_key: str,
    redirect_uri: str,
    state: str,
    code_verifier: str,
    scopes: tuple[str, ...] = SCOPES,
    authorize_url: str = AUTHORIZE_URL,
) -> str:
    """Where the creator grants us the scopes; TikTok redirects to ``redirect_uri`` with
    ``code`` and ``state``."""
    query = {
        "client_key": client_key,
        "scope": ",".join(scopes),
        "redirect_uri": redirect_uri,
        "state": state,
        "response_type": "code",
        "code_challenge": code_challenge(code_verifier),
        "code_challenge_method": "S256",
    }
    return f"{authorize_url}?{urlencode(query)}"


@dataclass(frozen=True)
class TikTokGrant:
    """What ``/v2/oauth/token/`` answers."""

    access_token: str
    refresh_token: str
    expires_at: datetime
    refresh_expires_at: datetime
    open_id: str
    scope: tuple[str, ...]

    @classmethod
    def from_answer(cls, answer: dict[str, Any], now: datetime) -> TikTokGrant:
        try:
            return cls(
                access_token=str(answer["access_token"]),
                refresh_token=str(answer["refresh_token"]),
                expires_at=now + timedelta(seconds=int(answer["expires_in"])),
                refresh_expires_at=now + timedelta(seconds=int(answer["refresh_expires_in"])),
                open_id=str(answer.get("open_id", "")),
                scope=tuple(s for s in str(answer.get("scope", "")).split(",") if s),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TikTokError(
                f"tiktok: the token endpoint answered without {exc}", retryable=True
            ) from None


def request_grant(api: TikTokAPI, **form: str) -> TikTokGrant:
    """``POST /v2/oauth/token/`` with ``form`` (plus the client's key and secret)."""
    body = {"client_key": api.client_key, "client_secret": api.client_secret, **form}
    secrets = [api.client_secret, form.get("refresh_token", ""), form.get("code", "")]
    backoff = api.backoff()
    while True:
        try:
            response = api.http.post(
                f"{api.base_url}/v2/oauth/token/",
                content=urlencode(body),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cache-Control": "no-cache",
                },
            )
        except httpx.TransportError as exc:
            backoff.fault(
                TikTokError(f"tiktok: token endpoint: {transport_failure(exc)}", retryable=True)
            )
            continue
        answer = answer_json(response)
        if answer is None:
            backoff.fault(bad_body(response, "token endpoint"))
            continue
        error = answer.get("error")
        if response.is_success and not error:
            return TikTokGrant.from_answer(answer, api.now())
        code = error if isinstance(error, str) else str(response.status_code)
        message = redact(
            f"tiktok: token endpoint: {code}: {answer.get('error_description', '')}",
            secrets,
        )
        if response.status_code == 429:
            backoff.rate_limited(retry_after_of(response), "token")
            continue
        if response.status_code >= 500:
            backoff.fault(TikTokError(message, code=code, retryable=True))
            continue
        raise TikTokError(message, code=code, log_id=str(answer.get("log_id", "")))


def exchange_code(
    api: TikTokAPI, *, code: str, redirect_uri: str, code_verifier: str
) -> TikTokGrant:
    return request_grant(
        api,
        grant_type="authorization_code",
        code=code,
        redirect_uri=redirect_uri,
        code_verifier=code_verifier,
    )


def refresh_grant(api: TikTokAPI, refresh_token: str) -> TikTokGrant:
    return request_grant(api, grant_type="refresh_token", refresh_token=refresh_token)


class AccountTokens:
    """The access token of one account, refreshed under its ``TokenStore`` lock so that no two
    runs spend one refresh token."""

    def __init__(self, api: TikTokAPI, store: TokenStore) -> None:
        self.api = api
        self.store = store

    @classmethod
    def serving(cls, api: TikTokAPI, store: TokenStore) -> TikTokAPI:
        """``api`` sending the access token ``store`` keeps, renewed when stale or refused."""
        tokens = cls(api, store)
        api.token, api.refresh = tokens.access_token, tokens.renew
        return api

    def access_token(self) -> str:
        tokens = self.store.current()
        if tokens.access_token and tokens.usable(self.api.now()):
            return tokens.access_token
        return self.renew(tokens.access_token)

    def renew(self, stale: str | None) -> str:
        """A fresh access token in place of ``stale`` (expired or refused): the one another run
        stored meanwhile, or one from TikTok for the stored refresh token."""
        with self.store.refreshing() as tokens:
            now = self.api.now()
            if tokens.access_token and tokens.access_token != stale and tokens.usable(now):
                return tokens.access_token
            if not tokens.refresh_token:
                self._gone("no refresh token is stored")
            try:
                grant = refresh_grant(self.api, str(tokens.refresh_token))
            except TikTokError as error:
                if error.code in ("invalid_grant", "access_denied"):
                    self._gone(str(error))
                raise
            self.store.save(
                access_token=grant.access_token,
                refresh_token=grant.refresh_token,
                expires_at=grant.expires_at,
            )
            return grant.access_token

    def _gone(self, reason: str) -> None:
        self.store.reconnect_required(f"tiktok: {reason}")
        raise ReconnectRequired(f"tiktok: the authorisation is gone ({reason}): reconnect")


@dataclass(frozen=True)
class TikTokOAuth:
    """What connecting a channel asks of one TikTok app (its client key and secret): the
    consent URL, the tokens for the code TikTok's consent screen redirected with, and who
    granted them."""

    base_url: str
    client_key: str
    client_secret: str = field(repr=False)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time

    @contextmanager
    def _api(self) -> Iterator[TikTokAPI]:
        api = TikTokAPI(**vars(self))  # the fields are the app's part of TikTokAPI's settings
        try:
            yield api
        finally:
            api.close()

    def authorization_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        return authorization_url(
            client_key=self.client_key,
            redirect_uri=redirect_uri,
            state=state,
            code_verifier=code_verifier,
        )

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> TikTokGrant:
        """The tokens for the code TikTok's consent screen redirected with."""
        with self._api() as api:
            return exchange_code(
                api, code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
            )

    def identity(self, access_token: str) -> CreatorInfo:
        """Who granted ``access_token`` (``creator_info/query``)."""
        with self._api() as api:
            api.token = lambda: access_token
            return api.creator_info()
