"""A fake Google identity provider on 127.0.0.1 (OpenID Connect authorization-code + PKCE).

``/authorize`` plays the consent screen: it checks the request like Google does and redirects
to ``redirect_uri`` with a one-time code. ``/token`` exchanges the code only with the right
client credentials, redirect URI and PKCE ``code_verifier`` (S256), and returns an ID token
carrying the nonce. Failure modes (``token_status``, ``delay``) simulate an outage.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt

CLIENT_ID = "autoclip-test.apps.googleusercontent.com"
CLIENT_SECRET = "fake-google-client-secret"


@dataclass
class GoogleUser:
    sub: str = "109876543210"
    email: str = "grace@gmail.example"
    email_verified: bool = True
    name: str = "Grace Hopper"


@dataclass
class FakeGoogle:
    base_url: str = ""
    user: GoogleUser = field(default_factory=GoogleUser)
    issuer: str = "https://accounts.google.com"
    token_status: int | None = None  # force an error status from /token
    delay: float = 0.0
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.base_url}/o/oauth2/v2/auth"

    @property
    def token_endpoint(self) -> str:
        return f"{self.base_url}/token"

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        required = ("client_id", "redirect_uri", "response_type", "scope", "state", "nonce")
        if any(k not in query for k in required) or query["client_id"] != CLIENT_ID:
            return 400, {}, {"error": "invalid_request"}
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return 400, {}, {"error": "invalid_request", "error_description": "PKCE required"}
        if query["response_type"] != "code" or "openid" not in query["scope"].split():
            return 400, {}, {"error": "unsupported_response_type"}
        code = secrets.token_urlsafe(16)
        self.codes[code] = query
        location = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        return 302, {"Location": location}, {}

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(form)
        if self.delay:
            time.sleep(self.delay)
        if self.token_status is not None:
            return self.token_status, {"error": "server_error"}
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 401, {"error": "invalid_client"}
        request = self.codes.pop(form.get("code", ""), None)  # codes are single-use
        if request is None or form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri") != request["redirect_uri"]:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"}
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if not verifier or challenge != request["code_challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "code_verifier"}
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "azp": CLIENT_ID,
            "aud": CLIENT_ID,
            "sub": self.user.sub,
            "email": self.user.email,
            "email_verified": self.user.email_verified,
            "name": self.user.name,
            "nonce": request["nonce"],
            "iat": now,
            "exp": now + 3600,
            **self.id_token_overrides,
        }
        id_token = jwt.encode(claims, "fake-idp-signing-key-" * 3, algorithm="HS256")
        return 200, {
            "access_token": secrets.token_urlsafe(24),
            "expires_in": 3599,
            "token_type": "Bearer",
            "scope": "openid email profile",
            "id_token": id_token,
        }


def _handler(idp: FakeGoogle) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            return None

        def _reply(self, status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
            data = json.dumps(body).encode() if body else b""
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path != "/o/oauth2/v2/auth":
                self._reply(404, {}, {"error": "not_found"})
                return
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            status, headers, body = idp.authorize(query)
            self._reply(status, headers, body)

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/token":
                self._reply(404, {}, {"error": "not_found"})
                return
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            status, body = idp.token(form)
            self._reply(status, {}, body)

    return Handler


@contextmanager
def running_fake_google() -> Iterator[FakeGoogle]:
    idp = FakeGoogle()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(idp))
    idp.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield idp
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
