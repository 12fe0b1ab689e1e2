"""Access and refresh tokens (JWT, HS256, algorithm pinned on decode)."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt

from autoclip_api.auth.permissions import Role, sorted_permissions

ALGORITHM = "HS256"
ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=7)
TokenType = Literal["access", "refresh"]
VERIFIED_ACCESS_TOKENS = 4096  # remembered per process (a client sends its token many times)
_REQUIRED = {
    "access": ["sub", "sid", "typ", "iss", "aud", "exp", "iat"],
    "refresh": ["sub", "sid", "jti", "typ", "iss", "aud", "exp", "iat"],
}


class InvalidTokenError(Exception):
    """Any reason a token is not accepted; the API answers all of them with one 401."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: str
    session_id: str
    org_id: str | None


@dataclass(frozen=True, slots=True)
class RefreshClaims:
    user_id: str
    session_id: str
    jti: str
    expires_at: datetime


class TokenCodec:
    def __init__(self, secret: str, *, issuer: str, audience: str) -> None:
        if len(secret) < 32:
            raise ValueError("token secret shorter than 32 characters")
        self._secret = secret
        self.issuer = issuer
        self.audience = audience
        self._verified: dict[str, tuple[AccessClaims, float]] = {}  # token -> claims, exp

    def access_token(
        self,
        *,
        user_id: str,
        session_id: str,
        org_id: str | None,
        role: Role | None,
        pair_jti: str,
        now: datetime,
    ) -> str:
        """The access token issued with the refresh token ``pair_jti``: the same arguments give
        the same token (its own ``jti`` is derived), so a pair can be handed out again."""
        return self._encode(
            {
                "sub": user_id,
                "org_id": org_id,
                "role": role.value if role else None,
                "permissions": sorted_permissions(role),
                "sid": session_id,
                "jti": hashlib.sha256(f"access:{pair_jti}".encode()).hexdigest()[:16],
                "typ": "access",
                "iat": now,
                "exp": now + ACCESS_TTL,
            }
        )

    def refresh_token(
        self, *, user_id: str, session_id: str, jti: str, expires_at: datetime, now: datetime
    ) -> str:
        return self._encode(
            {
                "sub": user_id,
                "sid": session_id,
                "jti": jti,
                "typ": "refresh",
                "iat": now,
                "exp": expires_at,
            }
        )

    def decode_access(self, token: str) -> AccessClaims:
        """The claims of a valid access token. A token already verified (exactly this string)
        is answered from memory until its ``exp``: decoding is what costs (PyJWT checks the
        base64 character by character), and the result cannot differ."""
        verified = self._verified.get(token)
        if verified is not None and verified[1] > time.time():
            return verified[0]
        claims = self._decode(token, "access")
        org_id = claims.get("org_id")
        if org_id is not None and not isinstance(org_id, str):
            raise InvalidTokenError("bad org_id claim")
        access = AccessClaims(claims["sub"], claims["sid"], org_id)
        if len(self._verified) >= VERIFIED_ACCESS_TOKENS:
            self._verified.clear()
        self._verified[token] = (access, float(claims["exp"]))
        return access

    def decode_refresh(self, token: str) -> RefreshClaims:
        claims = self._decode(token, "refresh")
        if not isinstance(claims["jti"], str):
            raise InvalidTokenError("bad jti claim")
        return RefreshClaims(
            claims["sub"], claims["sid"], claims["jti"], _from_timestamp(claims["exp"])
        )

    def _encode(self, claims: dict[str, Any]) -> str:
        claims = {**claims, "iss": self.issuer, "aud": self.audience}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def _decode(self, token: str, typ: TokenType) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": _REQUIRED[typ], "strict_aud": True},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(type(exc).__name__) from exc
        if claims.get("typ") != typ:
            raise InvalidTokenError(f"not an {typ} token")
        if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("sid"), str):
            raise InvalidTokenError("bad sub/sid claim")
        return claims


def opaque_token() -> str:
    """A random token for a link or a state (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """What is stored of an opaque token: its SHA-256, so the database alone redeems none."""
    return hashlib.sha256(token.encode()).hexdigest()


def _from_timestamp(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value), tz=UTC)
