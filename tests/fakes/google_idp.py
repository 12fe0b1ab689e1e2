"""A fake Google identity provider on a ``FakeServer`` (OpenID Connect authorization code +
PKCE).

``/o/oauth2/v2/auth`` plays the consent screen: it checks the request like Google does and
redirects to ``redirect_uri`` with a one-time code. ``/token`` exchanges the code only with the
right client credentials, redirect URI and PKCE ``code_verifier`` (S256), and returns an ID
token carrying the nonce. Failure modes (``token_status``, ``delay``) simulate an outage.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import jwt

from tests.fakes.net import running_server
from tests.fakes.server import FakeServer, Reply, Request

CLIENT_ID = "autoclip-test.apps.googleusercontent.com"
CLIENT_SECRET = "fake-google-client-secret"
AUTHORIZATION_PATH = "/o/oauth2/v2/auth"
TOKEN_PATH = "/token"
REDIRECT_URI = "http://127.0.0.1:5173/auth/callback"


@dataclass
class GoogleUser:
    sub: str = "109876543210"
    email: str = "grace@gmail.example"
    email_verified: bool = True
    name: str = "Grace Hopper"


@dataclass
class FakeGoogle:
    server: FakeServer
    user: GoogleUser = field(default_factory=GoogleUser)
    issuer: str = "https://accounts.google.com"
    token_status: int | None = None  # force an error status from /token
    delay: float = 0.0
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server.route(AUTHORIZATION_PATH, self._authorize)
        self.server.route(TOKEN_PATH, self._token)

    @property
    def authorization_endpoint(self) -> str:
        return self.server.url(AUTHORIZATION_PATH)

    @property
    def token_endpoint(self) -> str:
        return self.server.url(TOKEN_PATH)

    def app_settings(self, *redirect_uris: str) -> dict[str, str]:
        """The API's settings for signing in with this provider (``AUTOCLIP_GOOGLE_*``)."""
        return {
            "google_client_id": CLIENT_ID,
            "google_client_secret": CLIENT_SECRET,
            "google_authorization_endpoint": self.authorization_endpoint,
            "google_token_endpoint": self.token_endpoint,
            "oauth_redirect_uris": ",".join(redirect_uris or (REDIRECT_URI,)),
        }

    def _authorize(self, request: Request) -> Reply:
        query = request.query
        required = ("client_id", "redirect_uri", "response_type", "scope", "state", "nonce")
        if any(k not in query for k in required) or query["client_id"] != CLIENT_ID:
            return _json(400, {"error": "invalid_request"})
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return _json(400, {"error": "invalid_request", "error_description": "PKCE required"})
        if query["response_type"] != "code" or "openid" not in query["scope"].split():
            return _json(400, {"error": "unsupported_response_type"})
        code = secrets.token_urlsafe(16)
        self.codes[code] = query
        location = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        return Reply(status=302, headers={"Location": location})

    def _token(self, request: Request) -> Reply:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        self.token_requests.append(form)
        if self.delay:
            time.sleep(self.delay)
        if self.token_status is not None:
            return _json(self.token_status, {"error": "server_error"})
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return _json(401, {"error": "invalid_client"})
        authorization = self.codes.pop(form.get("code", ""), None)  # codes are single-use
        if authorization is None or form.get("grant_type") != "authorization_code":
            return _json(400, {"error": "invalid_grant"})
        if form.get("redirect_uri") != authorization["redirect_uri"]:
            return _json(400, {"error": "invalid_grant", "error_description": "redirect_uri"})
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if not verifier or challenge != authorization["code_challenge"]:
            return _json(400, {"error": "invalid_grant", "error_description": "code_verifier"})
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "azp": CLIENT_ID,
            "aud": CLIENT_ID,
            "sub": self.user.sub,
            "email": self.user.email,
            "email_verified": self.user.email_verified,
            "name": self.user.name,
            "nonce": authorization["nonce"],
            "iat": now,
            "exp": now + 3600,
            **self.id_token_overrides,
        }
        id_token = jwt.encode(claims, "fake-idp-signing-key-" * 3, algorithm="HS256")
        return _json(
            200,
            {
                "access_token": secrets.token_urlsafe(24),
                "expires_in": 3599,
                "token_type": "Bearer",
                "scope": "openid email profile",
                "id_token": id_token,
            },
        )


def _json(status: int, body: dict[str, Any]) -> Reply:
    return Reply(
        status=status, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )


@contextmanager
def running_fake_google() -> Iterator[FakeGoogle]:
    with running_server() as server:
        yield FakeGoogle(server)
