"""Sign-in with Google: OpenID Connect authorization-code flow with PKCE (S256) and a nonce.

The client that starts a sign-in makes the PKCE pair and keeps the verifier: we see only its
challenge until the client redeems the code, so a state and code taken from the redirect are
useless to anyone else.

The request/response transforms are pure functions (testable without a network); the one
network call is the back-channel code exchange. Every endpoint is configurable, so the tests
run the whole flow against a fake identity provider on 127.0.0.1.

The ID token comes straight from the token endpoint over TLS, in exchange for our client
secret, so its signature need not be checked (OpenID Connect Core §3.1.3.7 item 6, and Google's
"Authenticating the user" guide); its issuer, audience, expiry and nonce are.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx
import jwt

CLOCK_SKEW_SECONDS = 60


class OAuthRejectedError(Exception):
    """The provider (or its ID token) refused this sign-in: bad code, verifier, nonce..."""


class OAuthUnavailableError(Exception):
    """The provider could not be reached or answered with a server error."""


@dataclass(frozen=True, slots=True)
class OAuthIdentity:
    provider: str
    subject: str
    email: str
    email_verified: bool
    name: str


class OAuthProvider(Protocol):
    @property
    def name(self) -> str: ...

    def authorization_url(
        self, *, redirect_uri: str, state: str, code_challenge: str, nonce: str
    ) -> str: ...

    def exchange(
        self,
        client: httpx.Client,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str,
        nonce: str,
        now: datetime,
    ) -> OAuthIdentity: ...


def pkce_challenge(code_verifier: str) -> str:
    """The S256 ``code_challenge`` of a ``code_verifier`` (RFC 7636 §4.2)."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class GoogleProvider:
    client_id: str
    client_secret: str
    authorization_endpoint: str
    token_endpoint: str
    issuer: str = "https://accounts.google.com"
    name: str = "google"

    def authorization_url(
        self, *, redirect_uri: str, state: str, code_challenge: str, nonce: str
    ) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid email profile",
                "state": state,
                "nonce": nonce,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
                "prompt": "select_account",
            }
        )
        separator = "&" if "?" in self.authorization_endpoint else "?"
        return f"{self.authorization_endpoint}{separator}{query}"

    def token_request(self, *, code: str, redirect_uri: str, code_verifier: str) -> dict[str, str]:
        return {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "code_verifier": code_verifier,
        }

    def identity_from_token_response(
        self, payload: Any, *, nonce: str, now: datetime
    ) -> OAuthIdentity:
        if not isinstance(payload, dict) or not isinstance(payload.get("id_token"), str):
            raise OAuthRejectedError("token response without an id_token")
        try:
            claims = jwt.decode(payload["id_token"], options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise OAuthRejectedError("malformed id_token") from exc
        self._check_claims(claims, nonce=nonce, now=now)
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise OAuthRejectedError("id_token has no email (scope 'email' missing?)")
        email = email.strip().lower()
        name = claims.get("name")
        return OAuthIdentity(
            provider=self.name,
            subject=claims["sub"],
            email=email,
            email_verified=claims.get("email_verified") in (True, "true"),
            name=name.strip()[:200] if isinstance(name, str) and name.strip() else email,
        )

    def _check_claims(self, claims: dict[str, Any], *, nonce: str, now: datetime) -> None:
        issuers = {self.issuer, self.issuer.removeprefix("https://")}
        if claims.get("iss") not in issuers:
            raise OAuthRejectedError("id_token from another issuer")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.client_id not in audiences:
            raise OAuthRejectedError("id_token for another client")
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise OAuthRejectedError("id_token authorized for another party")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp + CLOCK_SKEW_SECONDS < now.timestamp():
            raise OAuthRejectedError("id_token expired")
        token_nonce = claims.get("nonce")
        if not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce, nonce):
            raise OAuthRejectedError("id_token nonce mismatch")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub or len(sub) > 255:
            raise OAuthRejectedError("id_token without a subject")

    def exchange(
        self,
        client: httpx.Client,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str,
        nonce: str,
        now: datetime,
    ) -> OAuthIdentity:
        form = self.token_request(code=code, redirect_uri=redirect_uri, code_verifier=code_verifier)
        try:
            response = client.post(
                self.token_endpoint, data=form, headers={"Accept": "application/json"}
            )
        except httpx.HTTPError as exc:
            raise OAuthUnavailableError(type(exc).__name__) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise OAuthUnavailableError(f"token endpoint answered {response.status_code}")
        if response.status_code != 200:
            raise OAuthRejectedError(f"token endpoint answered {response.status_code}")
        try:
            payload = response.json()
        except ValueError as exc:
            raise OAuthUnavailableError("token endpoint answered non-JSON") from exc
        return self.identity_from_token_response(payload, nonce=nonce, now=now)
