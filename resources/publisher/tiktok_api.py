"""TikTok's HTTP endpoints as TikTok for Developers documents them, shared by connecting a
channel (``tiktok_oauth.py``) and publishing to it (``tiktok.py``).

Every endpoint but the token endpoint answers ``{data, error: {code, message, log_id}}`` and
takes the creator's access token. TikTok limits requests per user token (init 6 a minute,
status 30 a minute): a ``rate_limit_exceeded`` is waited out (``Retry-After`` when sent, else
back-off) for up to ``max_wait_s``, then ``QuotaExhausted``; the daily post caps
(``spam_risk_too_many_posts``, ``…_pending_share``) are ``QuotaExhausted`` too. An access token
TikTok refuses is renewed once (``TikTokAPI.refresh``) and the call repeated; 5xx, resets and
bodies that are not JSON are tried again, unless the call may have taken effect.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from resources.errors import PublishError, QuotaExhausted, ReconnectRequired
from resources.vendors.http import redact, retry_after_seconds

DAILY_CAP_CODES = frozenset({"spam_risk_too_many_posts", "spam_risk_too_many_pending_share"})
DAILY_CAP_WAIT_S = 3600.0
"""TikTok counts the caps over any 24 hours without saying when a slot frees: look hourly."""


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
    ``refresh(stale)`` a new one after TikTok refused ``stale`` (both set by
    ``tiktok_oauth.AccountTokens``; without an account, neither works)."""

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
                error = TikTokError(f"tiktok: {path}: {transport_failure(exc)}", retryable=True)
                if not retry_faults:
                    raise _maybe_done(error) from None
                backoff.fault(error)
                continue
            answer = answer_json(response)
            envelope = answer.get("error") if answer is not None else None
            if answer is None or not isinstance(envelope, dict):
                if response.status_code == 429:
                    backoff.rate_limited(retry_after_of(response), path)
                    continue
                error = bad_body(response, path)
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
                [self.client_secret, token],
            )
            if response.status_code == 429 or code == "rate_limit_exceeded":
                backoff.rate_limited(retry_after_of(response), path)
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
                backoff.fault(
                    TikTokError(f"tiktok: upload: {transport_failure(exc)}", retryable=True)
                )
                continue
            if response.status_code == 429:
                backoff.rate_limited(retry_after_of(response), "upload")
                continue
            if response.status_code >= 500:
                backoff.fault(
                    TikTokError(f"tiktok: upload: HTTP {response.status_code}", retryable=True)
                )
                continue
            return response.status_code


def answer_json(response: httpx.Response) -> dict[str, Any] | None:
    """The answer's JSON object; None when the body is not one (a proxy's error page)."""
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


def retry_after_of(response: httpx.Response) -> float | None:
    """The seconds the answer's ``Retry-After`` asks to wait; None when it asks nothing."""
    return retry_after_seconds(response.headers.get("retry-after"))


def bad_body(response: httpx.Response, what: str) -> TikTokError:
    """An answer without TikTok's JSON (a gateway's page, a cut body): worth another try."""
    return TikTokError(
        f"tiktok: {what}: HTTP {response.status_code} without TikTok's JSON answer",
        retryable=True,
    )


def transport_failure(exc: httpx.TransportError) -> str:
    """How a request failed on the wire: timed out or could not connect, and the exception."""
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "connection failed"
    return f"{kind} ({type(exc).__name__})"
