"""The YouTube Data API v3 for one channel over plain HTTP (httpx): the channel's access
token, the calls with their retries, and Google's refusals as ``PublishError``s.

Access tokens are refreshed when expired and on a 401, under the channel's refresh lock
(``TokenStore.refreshing``); ``invalid_grant`` makes the channel ``reconnect_required``.
Google's ``quotaExceeded`` (403) becomes ``QuotaExhausted`` until the next Pacific midnight (the
ledger's own window when the account has one); ``uploadLimitExceeded`` (the channel's daily
number of uploads) waits a day. 429, 5xx, per-second rate limits, network failures and bodies
that are not JSON are tried again with bounded exponential back-off.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx

from autoclip_core.db.quota import next_window
from resources.errors import PublishError, QuotaExhausted, ReconnectRequired
from resources.publisher.base import ChannelAccount, TokenStore
from resources.publisher.google_oauth import GoogleOAuth, tls_context
from resources.vendors.http import RETRYABLE_STATUS, RetryPolicy, redact, retry_after_seconds

UPLOAD_LIMIT_WAIT_S = 24 * 3600.0
PER_SECOND_LIMITS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
"""403 reasons of a short-term rate limit: retried with back-off, unlike the daily quota."""
JSON_TYPE = "application/json; charset=UTF-8"

T = TypeVar("T")


class Passing(Exception):
    """A failure the same request may not meet again (429, 5xx, a body cut short)."""

    def __init__(self, failure: str, retry_after: float | None = None) -> None:
        super().__init__(failure)
        self.retry_after = retry_after


class YouTubeSession:
    """One publisher call's connection to YouTube: an ``httpx.Client``, the channel's tokens and
    the retry policy. Used as a context manager."""

    def __init__(
        self,
        account: ChannelAccount,
        tokens: TokenStore,
        oauth: GoogleOAuth,
        *,
        base_url: str,
        timeout_s: float,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
        now: Callable[[], datetime],
    ) -> None:
        self.account = account
        self.tokens = tokens
        self.oauth = oauth
        self.sleep = sleep
        self.now = now
        self.base = base_url.rstrip("/")
        self.policy = policy
        self.http = httpx.Client(timeout=timeout_s, follow_redirects=False, verify=tls_context())
        oauth.http = self.http
        self._access: str | None = None

    def __enter__(self) -> YouTubeSession:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.http.close()

    # -- tokens ---------------------------------------------------------------------------

    def access_token(self, refused: str | None = None) -> str:
        """A usable access token; ``refused``: the one YouTube just answered 401 to."""
        if refused is None and self._access is not None:
            return self._access
        current = self.tokens.current()
        if refused is None and current.usable(self.now()):
            self._access = current.access_token
            return str(current.access_token)
        with self.tokens.refreshing() as latest:
            # another run may have refreshed while this one waited for the lock
            if latest.usable(self.now()) and latest.access_token != refused:
                self._access = latest.access_token
                return str(latest.access_token)
            if not latest.refresh_token:
                reason = "youtube: no refresh token: connect the channel again"
                self.tokens.reconnect_required(reason)
                raise ReconnectRequired(reason)
            try:
                fresh = self.oauth.refresh(latest.refresh_token)
            except ReconnectRequired as gone:
                self.tokens.reconnect_required(str(gone))
                raise
            self.tokens.save(
                access_token=fresh.access_token,
                refresh_token=fresh.refresh_token,
                expires_at=fresh.expires_at,
            )
        self._access = fresh.access_token
        return fresh.access_token

    # -- calls ----------------------------------------------------------------------------

    def send(self, method: str, url: str, operation: str, **kwargs: Any) -> httpx.Response:
        """One request with a valid token: a 401 refreshes the token and asks once more. Google's
        refusals come back as ``PublishError``s (quota, upload limit, 4xx); 5xx and network
        failures are returned or raised as they are, for the caller's retry loop."""
        headers = dict(kwargs.pop("headers", {}))
        token = self.access_token()
        for refreshed in (False, True):
            headers["Authorization"] = f"Bearer {token}"
            response = self.http.request(method, url, headers=headers, **kwargs)
            if response.status_code != 401:
                break
            if refreshed:
                raise PublishError(f"youtube: {operation}: still unauthorised after a refresh")
            token = self.access_token(refused=token)
        if response.status_code in RETRYABLE_STATUS or response.is_success:
            return response
        if response.status_code in (308, 404, 410) and operation == "upload":
            return response
        reason, _message = google_reason(response)
        if reason in PER_SECOND_LIMITS:
            raise Passing(f"HTTP {response.status_code} {reason}")
        raise self.refusal(operation, response)

    def refusal(self, operation: str, response: httpx.Response) -> PublishError:
        reason, message = google_reason(response)
        text = redact(
            f"youtube: {operation}: HTTP {response.status_code} {reason}: {message}",
            [self._access or "", self.oauth.client_secret],
        )[:500]
        if reason in ("quotaExceeded", "dailyLimitExceeded"):
            if self.account.quota is not None:
                try:
                    self.account.quota.exhausted(operation)
                except QuotaExhausted as wait:
                    return wait
            until = next_window(self.now())
            return QuotaExhausted(
                text, retry_after=(until - self.now()).total_seconds(), until=until
            )
        if reason == "uploadLimitExceeded":
            return QuotaExhausted(text, retry_after=UPLOAD_LIMIT_WAIT_S)
        return PublishError(text, retryable=False)

    def retried(self, operation: str, attempt: Callable[[], T]) -> T:
        """``attempt()`` until it gets past 429/5xx answers, network failures and unreadable
        bodies, with bounded exponential back-off; a ``Retry-After`` longer than the cap is
        left to the run's own retry (the error carries it)."""
        for tries in range(self.policy.attempts):
            try:
                return attempt()
            except httpx.TransportError as exc:
                failure, retry_after = type(exc).__name__, None
            except Passing as passing:
                failure, retry_after = str(passing), passing.retry_after
            last = tries + 1 == self.policy.attempts
            if last or (retry_after is not None and retry_after > self.policy.cap):
                raise PublishError(
                    f"youtube: {operation}: {failure} after {tries + 1} tries",
                    retryable=True,
                    retry_after=retry_after,
                )
            self.sleep(max(self.policy.backoff(tries, random.random), retry_after or 0.0))
        raise AssertionError("unreachable: the last try returns or raises")

    def call(self, method: str, path: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        """A Data API call's JSON answer, the quota charged first."""
        if self.account.quota is not None:
            self.account.quota.spend(operation)
        return self.retried(
            operation,
            lambda: json_body(
                passed(self.send(method, f"{self.base}{path}", operation, **kwargs)), operation
            ),
        )

    def set_thumbnail(self, video_id: str, thumbnail: Path) -> None:
        image = thumbnail.read_bytes()
        kind = "image/png" if image.startswith(b"\x89PNG") else "image/jpeg"
        if self.account.quota is not None:
            self.account.quota.spend("thumbnails.set")
        self.retried(
            "thumbnails.set",
            lambda: json_body(
                passed(
                    self.send(
                        "POST",
                        f"{self.base}/upload/youtube/v3/thumbnails/set",
                        "thumbnails.set",
                        params={"videoId": video_id, "uploadType": "media"},
                        content=image,
                        headers={"Content-Type": kind},
                    )
                ),
                "thumbnails.set",
            ),
        )


def google_reason(response: httpx.Response) -> tuple[str, str]:
    """Google's error ``reason`` and message (``error.errors[0]``), or the status's phrase."""
    try:
        error = response.json().get("error") or {}
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return "", response.reason_phrase
    if not isinstance(error, dict):
        return "", response.reason_phrase
    details = error.get("errors") or [{}]
    reason = str(details[0].get("reason", "")) if isinstance(details[0], dict) else ""
    return reason, str(error.get("message") or response.reason_phrase)


def passed(response: httpx.Response) -> httpx.Response:
    """``response``, unless it is a 429/5xx that another try may get past."""
    if response.status_code in RETRYABLE_STATUS:
        raise Passing(
            f"HTTP {response.status_code}",
            retry_after_seconds(response.headers.get("retry-after")),
        )
    return response


def json_body(response: httpx.Response, operation: str) -> dict[str, Any]:
    """The answer's JSON object; a body that is not one is a passing fault (a truncated answer,
    a proxy's page)."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise Passing(f"{operation}: HTTP {response.status_code} with a body that is not JSON")
    return body
