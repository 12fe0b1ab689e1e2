"""TikTok through the Content Posting API, as TikTok for Developers documents it.

One publication is:

1. ``creator_info/query`` — the privacy levels this creator may post with (the channel's
   privacy, or the nearest more private level allowed; never a more public one) and the longest
   video they may post (a longer video is refused before anything is sent);
2. ``video/init`` (Direct Post, ``post_info`` with ``is_aigc``: these videos are generated) or
   ``inbox/video/init`` (a draft in the creator's inbox), per the channel's ``post_mode``, with
   ``FILE_UPLOAD`` (chunks as the media transfer guide lays them out, ``chunk_plan``) or
   ``PULL_FROM_URL`` (the request's presigned storage URL, when the channel asks for it);
3. the ``publish_id`` is saved in the upload journal before any byte is sent; then the chunks
   go up in order by ``PUT`` with ``Content-Range``;
4. ``status/fetch`` is polled until ``PUBLISH_COMPLETE`` / ``SEND_TO_USER_INBOX`` (the post id
   and URL are saved) or ``FAILED`` (its ``fail_reason`` is the error).

A later attempt that finds a ``publish_id`` in the journal asks ``status/fetch`` instead of
starting again; an upload cut short is continued from the ``uploaded_bytes`` TikTok reports,
while its upload URL lives (an hour). A ``FAILED`` publish made no video: it is moved to
``failed_publish_ids`` so that publishing again starts a new one.

TikTok limits requests per user token (init 6 a minute, status 30 a minute): a
``rate_limit_exceeded`` is waited out (``Retry-After`` when sent, else back-off) for up to
``max_wait_s``, then ``QuotaExhausted``; the daily post caps (``spam_risk_too_many_posts``,
``…_pending_share``) are ``QuotaExhausted`` too. Access tokens (24 h) are refreshed under the
account's ``TokenStore`` lock; TikTok rotates the refresh token on every refresh, and the new
one is saved before the lock is released. ``invalid_grant`` means the authorisation is gone:
``ReconnectRequired``.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import httpx
from pydantic import Field, PrivateAttr

from autoclip_core.render.probe import CorruptMediaError, probe
from autoclip_core.schemas import PublishReceipt
from resources.errors import PublishError, QuotaExhausted, ReconnectRequired
from resources.publisher.base import (
    ChannelAccount,
    PublisherResource,
    PublishRequest,
    TokenStore,
    UploadJournal,
    VideoStats,
)
from resources.vendors.http import redact, retry_after_seconds

AUTHORIZE_URL = "https://www.tiktok.com/v2/auth/authorize/"
SCOPES = ("user.info.basic", "video.publish", "video.upload", "video.list")
"""What publishing asks for; ``video.list`` is for ``video/query`` (the statistics)."""

# The media transfer guide's "MB" is read as the stricter of 10^6 and 2^20 on each side.
MIN_CHUNK = 5 * 1024 * 1024
MAX_CHUNK = 64_000_000
MAX_CHUNKS = 1000
UPLOAD_URL_TTL_S = 3600
"""The upload URL is valid for an hour after init."""

PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY")
"""From the most public to the most private."""
PRIVACY_FOR = {
    "public": "PUBLIC_TO_EVERYONE",
    "unlisted": "MUTUAL_FOLLOW_FRIENDS",
    "private": "SELF_ONLY",
}
DAILY_CAP_CODES = frozenset({"spam_risk_too_many_posts", "spam_risk_too_many_pending_share"})
DAILY_CAP_WAIT_S = 3600.0
"""TikTok counts the caps over any 24 hours without saying when a slot frees: look hourly."""
DONE = frozenset({"PUBLISH_COMPLETE", "SEND_TO_USER_INBOX"})
STATS_FIELDS = "id,title,create_time,share_url,view_count,like_count,comment_count,share_count"

Mode = Literal["direct", "inbox"]


class TikTokError(PublishError):
    """An error TikTok answered: its ``code`` (``rate_limit_exceeded``, ``invalid_param``…)
    and ``log_id`` (what TikTok's support asks for)."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        log_id: str = "",
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, retryable=retryable, retry_after=retry_after)
        self.code = code
        self.log_id = log_id


# pure pieces ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkPlan:
    video_size: int
    chunk_size: int
    total_chunk_count: int

    def source_info(self) -> dict[str, Any]:
        return {
            "source": "FILE_UPLOAD",
            "video_size": self.video_size,
            "chunk_size": self.chunk_size,
            "total_chunk_count": self.total_chunk_count,
        }

    def byte_range(self, index: int) -> tuple[int, int]:
        """First and last byte of chunk ``index``; the last chunk takes the trailing bytes."""
        first = index * self.chunk_size
        if index == self.total_chunk_count - 1:
            return first, self.video_size - 1
        return first, first + self.chunk_size - 1


def chunk_plan(video_size: int, preferred_chunk: int = 10_000_000) -> ChunkPlan:
    """The media transfer guide's chunking: chunks of 5–64 MB, as many as ``video_size //
    chunk_size`` with the last one taking the remainder (so it may be up to twice as big), at
    most 1000; a video that fits in one chunk goes whole."""
    if video_size <= 0:
        raise PublishError("an empty video cannot be uploaded to TikTok")
    chunk = min(max(preferred_chunk, MIN_CHUNK), MAX_CHUNK)
    if video_size < 2 * chunk and video_size <= MAX_CHUNK:
        return ChunkPlan(video_size, video_size, 1)
    chunk = max(chunk, math.ceil(video_size / MAX_CHUNKS))
    if chunk > MAX_CHUNK:
        raise PublishError(f"{video_size} bytes is more than TikTok's 1000 chunks of 64 MB")
    return ChunkPlan(video_size, chunk, video_size // chunk)


def choose_privacy(wanted: str, allowed: list[str]) -> str:
    """``wanted`` (a privacy level) when the creator may use it, else the nearest more private
    level they may use; never a more public one."""
    for level in PRIVACY_LEVELS[PRIVACY_LEVELS.index(wanted) :]:
        if level in allowed:
            return level
    raise PublishError(
        f"TikTok allows this creator only {', '.join(allowed) or 'no privacy level'}: none is "
        f"as private as {wanted}",
        retryable=False,
    )


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


@dataclass(frozen=True)
class CreatorInfo:
    username: str
    nickname: str
    avatar_url: str
    privacy_level_options: list[str]
    max_video_post_duration_sec: int
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> CreatorInfo:
        return cls(
            username=str(data.get("creator_username", "")),
            nickname=str(data.get("creator_nickname", "")),
            avatar_url=str(data.get("creator_avatar_url", "")),
            privacy_level_options=[str(p) for p in data.get("privacy_level_options") or []],
            max_video_post_duration_sec=int(data.get("max_video_post_duration_sec") or 0),
            comment_disabled=bool(data.get("comment_disabled")),
            duet_disabled=bool(data.get("duet_disabled")),
            stitch_disabled=bool(data.get("stitch_disabled")),
        )


# HTTP ----------------------------------------------------------------------------------------


@dataclass
class Backoff:
    """Waits for one call: ``attempts`` tries on faults that may pass (5xx, resets, bodies that
    are not JSON), and rate-limit waits up to ``max_wait_s`` in all."""

    sleep: Callable[[float], None]
    rng: Callable[[], float]
    attempts: int
    max_wait_s: float
    faults: int = 0
    waited_s: float = 0.0
    limits: int = 0

    def fault(self, error: TikTokError) -> None:
        """Wait before the next try, or raise ``error`` when the tries are used up."""
        self.faults += 1
        if self.faults >= self.attempts:
            raise error
        self._wait(min(30.0, 0.5 * 2**self.faults) * (0.5 + self.rng() / 2))

    def rate_limited(self, retry_after: float | None, what: str) -> None:
        """Wait out a rate limit (the server's ``Retry-After``, else 1, 2, 4… s up to 60), or
        raise ``QuotaExhausted`` once ``max_wait_s`` would be passed."""
        wait = retry_after if retry_after is not None else min(60.0, 2.0**self.limits)
        self.limits += 1
        if self.waited_s + wait > self.max_wait_s:
            raise QuotaExhausted(
                f"tiktok: {what} still rate-limited after {self.waited_s:.0f} s of waiting",
                retry_after=wait,
            )
        self._wait(wait)

    def _wait(self, seconds: float) -> None:
        self.waited_s += seconds
        self.sleep(seconds)


class TikTokAPI:
    """TikTok's endpoints for one account: ``token()`` gives the access token to send,
    ``refresh(stale)`` a new one after TikTok refused ``stale``."""

    def __init__(
        self,
        base_url: str,
        *,
        client_key: str,
        client_secret: str,
        timeout_s: float = 60.0,
        attempts: int = 5,
        max_wait_s: float = 900.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_key = client_key
        self.client_secret = client_secret
        self.attempts = attempts
        self.max_wait_s = max_wait_s
        self.sleep = sleep
        self.clock = clock
        self.rng = rng
        self.http = httpx.Client(timeout=timeout_s, follow_redirects=False)
        self.token: Callable[[], str] = self._no_token
        self.refresh: Callable[[str], str] = self._no_refresh

    def close(self) -> None:
        self.http.close()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def backoff(self) -> Backoff:
        return Backoff(self.sleep, self.rng, self.attempts, self.max_wait_s)

    @staticmethod
    def _no_token() -> str:
        raise ReconnectRequired("tiktok: this channel has no TikTok tokens: connect it")

    @staticmethod
    def _no_refresh(_stale: str) -> str:
        raise ReconnectRequired("tiktok: TikTok refused the access token and it cannot be renewed")

    def _secrets(self) -> list[str]:
        return [self.client_secret]

    # OAuth -----------------------------------------------------------------------------------

    def oauth(self, **form: str) -> TikTokGrant:
        """``POST /v2/oauth/token/`` with ``form`` (plus the client's key and secret)."""
        body = {"client_key": self.client_key, "client_secret": self.client_secret, **form}
        secrets = [*self._secrets(), form.get("refresh_token", ""), form.get("code", "")]
        backoff = self.backoff()
        while True:
            try:
                response = self.http.post(
                    f"{self.base_url}/v2/oauth/token/",
                    content=urlencode(body),
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Cache-Control": "no-cache",
                    },
                )
            except httpx.TransportError as exc:
                backoff.fault(
                    TikTokError(f"tiktok: token endpoint: {_transport(exc)}", retryable=True)
                )
                continue
            answer = _json(response)
            if answer is None:
                backoff.fault(_bad_body(response, "token endpoint"))
                continue
            error = answer.get("error")
            if response.is_success and not error:
                return TikTokGrant.from_answer(answer, self.now())
            code = error if isinstance(error, str) else str(response.status_code)
            message = redact(
                f"tiktok: token endpoint: {code}: {answer.get('error_description', '')}",
                secrets,
            )
            if response.status_code == 429:
                backoff.rate_limited(_retry_after(response), "token")
                continue
            if response.status_code >= 500:
                backoff.fault(TikTokError(message, code=code, retryable=True))
                continue
            raise TikTokError(message, code=code, log_id=str(answer.get("log_id", "")))

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> TikTokGrant:
        return self.oauth(
            grant_type="authorization_code",
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
        )

    def refresh_grant(self, refresh_token: str) -> TikTokGrant:
        return self.oauth(grant_type="refresh_token", refresh_token=refresh_token)

    # the JSON API ----------------------------------------------------------------------------

    def call(
        self,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, str] | None = None,
        retry_faults: bool = True,
    ) -> dict[str, Any]:
        """``data`` of TikTok's answer to ``POST path``. Rate limits are waited out; a refused
        access token is renewed once; 5xx, resets and bodies that are not JSON are tried again
        only when ``retry_faults`` (a call that may have taken effect is not)."""
        backoff = self.backoff()
        renewed = False
        while True:
            token = self.token()
            try:
                response = self.http.post(
                    f"{self.base_url}{path}",
                    params=params,
                    json=body or {},
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.TransportError as exc:
                error = TikTokError(f"tiktok: {path}: {_transport(exc)}", retryable=True)
                if not retry_faults:
                    raise _maybe_done(error) from None
                backoff.fault(error)
                continue
            answer = _json(response)
            envelope = answer.get("error") if answer is not None else None
            if answer is None or not isinstance(envelope, dict):
                if response.status_code == 429:
                    backoff.rate_limited(_retry_after(response), path)
                    continue
                error = _bad_body(response, path)
                if not retry_faults and response.status_code != 503:
                    raise _maybe_done(error)
                backoff.fault(error)
                continue
            code = str(envelope.get("code", ""))
            if response.is_success and code == "ok":
                data = answer.get("data")
                return data if isinstance(data, dict) else {}
            log_id = str(envelope.get("log_id", ""))
            message = redact(
                f"tiktok: {path}: HTTP {response.status_code} {code}: "
                f"{envelope.get('message', '')} (log_id {log_id})",
                [*self._secrets(), token],
            )
            if response.status_code == 429 or code == "rate_limit_exceeded":
                backoff.rate_limited(_retry_after(response), path)
                continue
            if code == "access_token_invalid" and not renewed:
                renewed = True
                self.refresh(token)
                continue
            if code in DAILY_CAP_CODES:
                raise QuotaExhausted(message, retry_after=DAILY_CAP_WAIT_S)
            if response.status_code >= 500:
                error = TikTokError(message, code=code, log_id=log_id, retryable=True)
                if not retry_faults and response.status_code != 503:
                    raise _maybe_done(error)
                backoff.fault(error)
                continue
            raise TikTokError(message, code=code, log_id=log_id)

    def creator_info(self) -> CreatorInfo:
        return CreatorInfo.from_data(self.call("/v2/post/publish/creator_info/query/"))

    def status(self, publish_id: str) -> dict[str, Any]:
        return self.call("/v2/post/publish/status/fetch/", {"publish_id": publish_id})

    def put_chunk(self, upload_url: str, data: bytes, first: int, last: int, total: int) -> int:
        """One chunk of the media transfer: the status TikTok answered (206 more wanted, 201
        all in; 416 out of step; 403 the URL expired), retrying faults that may pass."""
        backoff = self.backoff()
        while True:
            try:
                response = self.http.put(
                    upload_url,
                    content=data,
                    headers={
                        "Content-Type": "video/mp4",
                        "Content-Range": f"bytes {first}-{last}/{total}",
                    },
                )
            except httpx.TransportError as exc:
                backoff.fault(TikTokError(f"tiktok: upload: {_transport(exc)}", retryable=True))
                continue
            if response.status_code == 429:
                backoff.rate_limited(_retry_after(response), "upload")
                continue
            if response.status_code >= 500:
                backoff.fault(
                    TikTokError(f"tiktok: upload: HTTP {response.status_code}", retryable=True)
                )
                continue
            return response.status_code


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        answer = response.json()
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _maybe_done(error: TikTokError) -> TikTokError:
    """A call that may have taken effect although its answer was lost: not to be repeated by
    anyone (TikTok gives no way to find a publish whose id never reached us)."""
    return TikTokError(
        f"{error} — the call may have taken effect, so it is not repeated",
        code=error.code,
        log_id=error.log_id,
        retryable=False,
    )


def _retry_after(response: httpx.Response) -> float | None:
    return retry_after_seconds(response.headers.get("retry-after"))


def _bad_body(response: httpx.Response, what: str) -> TikTokError:
    return TikTokError(
        f"tiktok: {what}: HTTP {response.status_code} without TikTok's JSON answer",
        retryable=True,
    )


def _transport(exc: httpx.TransportError) -> str:
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "connection failed"
    return f"{kind} ({type(exc).__name__})"


# tokens --------------------------------------------------------------------------------------


class AccountTokens:
    """The access token of one account, refreshed under its ``TokenStore`` lock so that no two
    runs spend one refresh token."""

    def __init__(self, api: TikTokAPI, store: TokenStore) -> None:
        self.api = api
        self.store = store

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
                grant = self.api.refresh_grant(str(tokens.refresh_token))
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


# the resource --------------------------------------------------------------------------------


class TikTokPublisher(PublisherResource):
    """Publishes to TikTok accounts (``account.tokens``) of one TikTok app."""

    client_key: str
    client_secret: str = Field(repr=False)
    base_url: str = "https://open.tiktokapis.com"
    chunk_size: int = Field(default=10_000_000, description="Preferred bytes per chunk.")
    poll_interval_s: float = Field(default=5.0, description="Between status polls (30/min).")
    poll_timeout_s: float = Field(default=900.0, description="How long to poll one attempt.")
    timeout_s: float = 60.0
    attempts: int = 5
    max_wait_s: float = Field(default=900.0, description="Rate-limit waiting per call.")

    _sleep: Callable[[float], None] = PrivateAttr(default=time.sleep)
    _clock: Callable[[], float] = PrivateAttr(default=time.time)

    def on_clock(
        self, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> TikTokPublisher:
        """This publisher with another clock (tests: a fake one shared with the fake TikTok)."""
        self._clock, self._sleep = clock, sleep
        return self

    def api(self, tokens: TokenStore | None = None) -> TikTokAPI:
        api = TikTokAPI(
            self.base_url,
            client_key=self.client_key,
            client_secret=self.client_secret,
            timeout_s=self.timeout_s,
            attempts=self.attempts,
            max_wait_s=self.max_wait_s,
            sleep=self._sleep,
            clock=self._clock,
        )
        if tokens is not None:
            account_tokens = AccountTokens(api, tokens)
            api.token = account_tokens.access_token
            api.refresh = account_tokens.renew
        return api

    # the OAuth callback's side ---------------------------------------------------------------

    def authorization_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        return authorization_url(
            client_key=self.client_key,
            redirect_uri=redirect_uri,
            state=state,
            code_verifier=code_verifier,
        )

    @contextmanager
    def session(self, account: ChannelAccount | None = None) -> Iterator[TikTokAPI]:
        """The API for ``account`` (None: for the app alone), closed afterwards."""
        if account is not None and account.tokens is None:
            raise ReconnectRequired(f"tiktok: channel {account.slug} has no TikTok tokens")
        api = self.api(account.tokens if account is not None else None)
        try:
            yield api
        finally:
            api.close()

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> TikTokGrant:
        """The tokens for the code TikTok's consent screen redirected with."""
        with self.session() as api:
            return api.exchange_code(
                code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
            )

    def identity(self, access_token: str) -> CreatorInfo:
        """Who granted ``access_token`` (``creator_info/query``)."""
        with self.session() as api:
            api.token = lambda: access_token
            return api.creator_info()

    # publishing ------------------------------------------------------------------------------

    def publish(
        self, request: PublishRequest, account: ChannelAccount, journal: UploadJournal
    ) -> PublishReceipt:
        with self.session(account) as api:
            return _Publication(self, api, request, account, journal).run()

    def video_stats(
        self, content_id: str, receipt: PublishReceipt, account: ChannelAccount
    ) -> VideoStats:
        with self.session(account) as api:
            post_id = receipt.platform_id or ""
            if not post_id.isdigit():
                post_id = _post_id(api.status(post_id)) if post_id else ""
            if not post_id:
                raise PublishError(
                    f"tiktok: {content_id} has no public post on {account.slug} (a private or "
                    "inbox post has no post id TikTok's video/query could be asked with)"
                )
            data = api.call(
                "/v2/video/query/",
                {"filters": {"video_ids": [post_id]}},
                params={"fields": STATS_FIELDS},
            )
        video = next((v for v in data.get("videos") or [] if str(v.get("id")) == post_id), None)
        if video is None:
            raise PublishError(f"tiktok: post {post_id} of {content_id} is not on TikTok")
        created = video.get("create_time")
        return VideoStats(
            channel=receipt.channel,
            content_id=content_id,
            url=str(video.get("share_url") or receipt.url),
            published_at=datetime.fromtimestamp(int(created), UTC) if created else None,
            views=int(video.get("view_count") or 0),
            likes=int(video.get("like_count") or 0),
            comments=int(video.get("comment_count") or 0),
            shares=int(video.get("share_count") or 0),
            captured_at=datetime.now(UTC),
        )


def _post_id(status: dict[str, Any]) -> str:
    ids = status.get("publicaly_available_post_id") or status.get("publicly_available_post_id")
    return str(ids[0]) if ids else ""


class _Publication:
    """One attempt at publishing ``request`` on ``account``."""

    def __init__(
        self,
        publisher: TikTokPublisher,
        api: TikTokAPI,
        request: PublishRequest,
        account: ChannelAccount,
        journal: UploadJournal,
    ) -> None:
        self.publisher = publisher
        self.api = api
        self.request = request
        self.account = account
        self.journal = journal

    def run(self) -> PublishReceipt:
        state = self.journal.load()
        if state.get("platform_id"):
            return self._receipt(state)
        try:
            if state.get("publish_id"):
                return self._resume(state)
            return self._start()
        except TikTokError as error:
            if error.code == "scope_not_authorized":
                assert self.account.tokens is not None
                self.account.tokens.reconnect_required(str(error))
                raise ReconnectRequired(
                    f"tiktok: the account did not grant what publishing needs: {error}"
                ) from error
            raise

    def _start(self) -> PublishReceipt:
        settings = self.account.settings
        creator = self.api.creator_info()
        duration = _duration_s(self.request.video)
        limit = creator.max_video_post_duration_sec
        if limit and duration > limit:
            raise PublishError(
                f"tiktok: the video is {duration:.1f} s long; this creator may post at most "
                f"{limit} s",
                retryable=False,
            )
        mode: Mode = settings.post_mode
        video_size = self.request.video.stat().st_size
        pull = settings.tiktok_source == "url" and bool(self.request.video_url)
        plan = None if pull else chunk_plan(video_size, self.publisher.chunk_size)
        source_info = (
            {"source": "PULL_FROM_URL", "video_url": self.request.video_url}
            if plan is None
            else plan.source_info()
        )
        body: dict[str, Any] = {"source_info": source_info}
        privacy = None
        if mode == "direct":
            privacy = choose_privacy(
                PRIVACY_FOR[settings.effective_privacy], creator.privacy_level_options
            )
            body["post_info"] = {
                "title": _caption(self.request),
                "privacy_level": privacy,
                "disable_comment": creator.comment_disabled,
                "disable_duet": creator.duet_disabled,
                "disable_stitch": creator.stitch_disabled,
                "brand_content_toggle": False,
                "brand_organic_toggle": False,
                "is_aigc": True,
            }
        path = (
            "/v2/post/publish/video/init/"
            if mode == "direct"
            else "/v2/post/publish/inbox/video/init/"
        )
        # A pull starts with the init itself: an init whose answer was lost may have started
        # one, so only a refusal (429, 503) is tried again.
        data = self.api.call(path, body, retry_faults=plan is not None)
        publish_id = str(data.get("publish_id") or "")
        if not publish_id:
            raise TikTokError(f"tiktok: {path} answered without a publish_id", retryable=True)
        state: dict[str, Any] = {
            "publish_id": publish_id,
            "mode": mode,
            "source": source_info["source"],
            "privacy_level": privacy,
            "creator_username": creator.username,
            "initiated_at": self.api.clock(),
        }
        if plan is not None:
            state |= {
                "upload_url": str(data.get("upload_url") or ""),
                "video_size": plan.video_size,
                "chunk_size": plan.chunk_size,
                "total_chunk_count": plan.total_chunk_count,
            }
            if not state["upload_url"]:
                raise TikTokError(f"tiktok: {path} answered without an upload_url", retryable=True)
        self.journal.save(**state)
        if plan is not None:
            self._upload(state, plan, 0)
        return self._await(state)

    def _resume(self, state: dict[str, Any]) -> PublishReceipt:
        if state.get("source") == "FILE_UPLOAD":
            status = self.api.status(state["publish_id"])
            uploaded = int(status.get("uploaded_bytes") or 0)
            if status.get("status") == "PROCESSING_UPLOAD" and uploaded < state["video_size"]:
                self._continue(state, uploaded)
        return self._await(state)

    def _continue(self, state: dict[str, Any], uploaded: int) -> None:
        """Send what an earlier attempt did not, from the chunk TikTok has not got."""
        if self.api.clock() - float(state["initiated_at"]) >= UPLOAD_URL_TTL_S:
            self._abandon(
                state,
                f"its upload URL expired with {uploaded} of {state['video_size']} bytes sent",
                retryable=True,
            )
        plan = ChunkPlan(state["video_size"], state["chunk_size"], state["total_chunk_count"])
        self._upload(state, plan, uploaded // plan.chunk_size)

    def _upload(self, state: dict[str, Any], plan: ChunkPlan, start: int) -> None:
        index = start
        with self.request.video.open("rb") as video:
            while index < plan.total_chunk_count:
                first, last = plan.byte_range(index)
                video.seek(first)
                data = video.read(last - first + 1)
                answer = self.api.put_chunk(state["upload_url"], data, first, last, plan.video_size)
                if answer in (200, 201, 206):
                    index += 1
                    continue
                if answer == 416:
                    # Out of step (a chunk that arrived although its answer was lost): go on
                    # from what TikTok says it has.
                    index = self._resync(state, plan, index)
                    continue
                what = {403: "the upload URL expired", 404: "TikTok does not know the upload"}
                raise TikTokError(
                    f"tiktok: upload of chunk {index + 1}/{plan.total_chunk_count}: HTTP "
                    f"{answer}: {what.get(answer, 'refused')}",
                    retryable=answer not in (400, 403, 404),
                )

    def _resync(self, state: dict[str, Any], plan: ChunkPlan, index: int) -> int:
        uploaded = int(self.api.status(state["publish_id"]).get("uploaded_bytes") or 0)
        if uploaded >= plan.video_size:
            return plan.total_chunk_count
        if uploaded % plan.chunk_size or uploaded // plan.chunk_size == index:
            raise TikTokError(
                f"tiktok: TikTok refused chunk {index + 1} as out of order and holds "
                f"{uploaded} bytes",
                retryable=False,
            )
        return uploaded // plan.chunk_size

    def _await(self, state: dict[str, Any]) -> PublishReceipt:
        deadline = self.api.clock() + self.publisher.poll_timeout_s
        while True:
            status = self.api.status(state["publish_id"])
            name = str(status.get("status", ""))
            if name in DONE:
                post_id = _post_id(status)
                done = {
                    "status": name,
                    "platform_id": post_id or state["publish_id"],
                    "url": _url(state.get("creator_username", ""), post_id),
                    "published_at": self.api.now().isoformat(),
                }
                self.journal.save(**done)
                return self._receipt(state | done)
            if name == "FAILED":
                self._abandon(state, str(status.get("fail_reason") or "no reason given"))
            if self.api.clock() >= deadline:
                raise TikTokError(
                    f"tiktok: publish {state['publish_id']} still {name} after "
                    f"{self.publisher.poll_timeout_s:.0f} s; the next attempt asks again",
                    retryable=True,
                )
            self.api.sleep(self.publisher.poll_interval_s)

    def _abandon(self, state: dict[str, Any], reason: str, *, retryable: bool = False) -> None:
        """The publish cannot become a video: set it aside so that the next publication starts
        a new one, and raise why."""
        failed = [*self.journal.load().get("failed_publish_ids", []), state["publish_id"]]
        self.journal.save(publish_id=None, failed_publish_ids=failed, status="FAILED")
        raise TikTokError(
            f"tiktok: publish {state['publish_id']} failed: {reason}",
            code=reason if not retryable else "",
            retryable=retryable,
        )

    def _receipt(self, state: dict[str, Any]) -> PublishReceipt:
        published = state.get("published_at")
        return PublishReceipt(
            channel=self.request.channel,
            url=str(state.get("url") or _url(state.get("creator_username", ""), "")),
            published_at=datetime.fromisoformat(published) if published else self.api.now(),
            platform_id=str(state["platform_id"]),
        )


def _url(username: str, post_id: str) -> str:
    profile = f"https://www.tiktok.com/@{username}"
    return f"{profile}/video/{post_id}" if post_id else profile


def _caption(request: PublishRequest) -> str:
    """Title, description (it carries the credits a licence asks for) and the hashtags TikTok
    links, within the 2200 UTF-16 code units a caption holds."""
    tags = " ".join(f"#{t.lstrip('#')}" for t in request.hashtags if t.strip("#"))
    parts = [request.title.strip(), request.description.strip(), tags]
    caption = "\n\n".join(p for p in parts if p)
    return caption.encode("utf-16-le")[: 2 * 2200].decode("utf-16-le", errors="ignore")


def _duration_s(video: Path) -> float:
    try:
        return probe(video).duration
    except CorruptMediaError as exc:
        raise PublishError(f"tiktok: {exc}", retryable=False) from exc
