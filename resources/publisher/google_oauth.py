"""Google's OAuth 2.0 for a YouTube channel: the consent URL (offline access, PKCE), the code
exchange and the refresh of an access token, after Google's "OAuth 2.0 for Web Server
Applications" documentation.

- The consent URL asks for ``access_type=offline`` (a refresh token comes back) and
  ``prompt=consent`` (Google hands out a refresh token only on consent: asking again makes
  reconnecting a channel give a fresh one), with ``code_challenge_method=S256``.
- ``POST {origin}/token`` with ``grant_type=authorization_code`` (plus the PKCE
  ``code_verifier`` and the same ``redirect_uri``) or ``grant_type=refresh_token``. Google does
  not rotate refresh tokens: a refresh answer has none, and the stored one stays.
- ``400 {"error": "invalid_grant"}`` on a refresh means the grant is gone (revoked, expired, the
  user changed the password): ``ReconnectRequired``, never retried. 429, 5xx, timeouts and
  resets are retried with bounded back-off; anything else fails at once.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx

from resources.errors import PublishError, ReconnectRequired
from resources.vendors.http import RetryPolicy, redact, retrying, status_error, transport_error

AUTHORIZATION_ENDPOINT = "https://accounts.google.com/o/oauth2/v2/auth"
UPLOAD_SCOPE = "https://www.googleapis.com/auth/youtube.upload"
READONLY_SCOPE = "https://www.googleapis.com/auth/youtube.readonly"
SCOPES = (UPLOAD_SCOPE, READONLY_SCOPE)
VENDOR = "google-oauth"


@dataclass(frozen=True)
class PKCE:
    """RFC 7636: the verifier stays with us (bound to the ``state``), the challenge goes in
    the consent URL."""

    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> PKCE:
        verifier = secrets.token_urlsafe(64)  # 86 characters, within RFC 7636's 43..128
        return cls(verifier, challenge(verifier))


def challenge(verifier: str) -> str:
    """S256: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    code_challenge: str,
    endpoint: str = AUTHORIZATION_ENDPOINT,
    scopes: tuple[str, ...] = SCOPES,
) -> str:
    """Where the channel's owner consents to uploads (and to reading the channel's identity)."""
    query = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(scopes),
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    return f"{endpoint}?{urlencode(query)}"


CHANNELS_MINE = {"part": "snippet", "mine": "true"}
"""``channels.list`` parameters for the channel the access token was granted for."""


@dataclass(frozen=True)
class YouTubeChannel:
    id: str
    title: str
    custom_url: str

    @classmethod
    def of(cls, body: dict[str, object]) -> YouTubeChannel:
        """The first channel of a ``channels.list?mine=true`` answer (``PublishError`` when the
        account has none)."""
        items = body.get("items") or []
        if not isinstance(items, list) or not items:
            raise PublishError("youtube: the authorised account has no YouTube channel")
        snippet = items[0].get("snippet") or {}
        return cls(
            str(items[0].get("id", "")),
            str(snippet.get("title", "")),
            str(snippet.get("customUrl", "")),
        )


@dataclass(frozen=True)
class GoogleTokens:
    access_token: str
    expires_at: datetime
    refresh_token: str | None
    """None on a refresh: Google keeps the refresh token it gave at consent."""
    scopes: tuple[str, ...]


class GoogleOAuth:
    """The token endpoint at ``base_url`` (``{base_url}/token``) for one OAuth client."""

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        http: httpx.Client | None = None,
    ) -> None:
        """``http``: a client to send through (its owner closes it); None: one per call."""
        self.token_endpoint = f"{base_url.rstrip('/')}/token"
        self.client_id = client_id
        self.client_secret = client_secret
        self.timeout = timeout
        self.policy = policy or RetryPolicy(attempts=4)
        self.sleep = sleep
        self.now = now
        self.http = http

    def exchange_code(self, code: str, *, code_verifier: str, redirect_uri: str) -> GoogleTokens:
        """The tokens for the ``code`` the consent redirect brought (once: codes are single-use).
        A refused code is a ``PublishError`` (not retried): the owner has to consent again."""
        return self._grant(
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": code_verifier,
                "redirect_uri": redirect_uri,
            },
            private=(code, code_verifier),
            refused=PublishError,
        )

    def refresh(self, refresh_token: str) -> GoogleTokens:
        """A fresh access token; ``ReconnectRequired`` when Google says ``invalid_grant``."""
        return self._grant(
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
            private=(refresh_token,),
            refused=ReconnectRequired,
        )

    def _grant(
        self,
        form: dict[str, str],
        *,
        private: tuple[str, ...],
        refused: Callable[[str], PublishError],
    ) -> GoogleTokens:
        form = {**form, "client_id": self.client_id, "client_secret": self.client_secret}
        hidden = (*private, self.client_secret)

        def once(http: httpx.Client) -> GoogleTokens:
            started = self.now()
            try:
                response = http.post(
                    self.token_endpoint, data=form, headers={"Accept": "application/json"}
                )
            except httpx.TransportError as exc:
                raise transport_error(PublishError, VENDOR, exc) from None
            body = _json_object(response)
            if response.status_code == 400 and body.get("error") == "invalid_grant":
                detail = body.get("error_description") or "invalid_grant"
                raise refused(redact(f"{VENDOR}: invalid_grant: {detail}", hidden))
            if not response.is_success:
                detail = str(body.get("error_description") or body.get("error") or "")
                raise status_error(
                    PublishError,
                    VENDOR,
                    response.status_code,
                    detail or response.reason_phrase,
                    retry_after=response.headers.get("retry-after"),
                    secrets=hidden,
                )
            return _tokens(body, started)

        if self.http is not None:
            shared = self.http
            return retrying(lambda: once(shared), policy=self.policy, sleep=self.sleep)
        with httpx.Client(timeout=self.timeout, verify=tls_context()) as http:
            return retrying(lambda: once(http), policy=self.policy, sleep=self.sleep)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context (certifi's roots) for every client: loading it costs ~0.1 s a time."""
    return httpx.create_ssl_context()


def _json_object(response: httpx.Response) -> dict[str, object]:
    """The answer's JSON object; {} when the body is not one (a proxy's error page)."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _tokens(body: dict[str, object], started: datetime) -> GoogleTokens:
    access_token = body.get("access_token")
    expires_in = body.get("expires_in")
    if not isinstance(access_token, str) or not isinstance(expires_in, int | float):
        # a 200 without the token: a truncated or foreign answer, worth another try
        raise PublishError(f"{VENDOR}: the token answer has no access token", retryable=True)
    refresh_token = body.get("refresh_token")
    scope = body.get("scope")
    return GoogleTokens(
        access_token=access_token,
        # counted from when the request left, so the token is never used past its end
        expires_at=started + timedelta(seconds=float(expires_in)),
        refresh_token=refresh_token if isinstance(refresh_token, str) else None,
        scopes=tuple(scope.split()) if isinstance(scope, str) else (),
    )
