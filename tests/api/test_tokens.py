"""The JWTs: claims, lifetimes, pinned algorithm and every way a token must be refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from autoclip_api.auth.tokens import InvalidTokenError, TokenCodec
from tests.api.conftest import JWT_SECRET
from tests.api.helpers import Account, ApiClient, forge, problem

pytestmark = pytest.mark.anyio


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def _status(client: ApiClient, token: str) -> int:
    response = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 401:
        assert response.json() == problem(401, "Invalid or expired token")
        assert response.headers["www-authenticate"] == "Bearer"
    return response.status_code


async def test_access_token_claims_and_15_minute_lifetime(client: ApiClient) -> None:
    account = await client.register()
    header = jwt.get_unverified_header(account.access_token)
    assert header["alg"] == "HS256"
    claims = jwt.decode(
        account.access_token, JWT_SECRET, algorithms=["HS256"], audience="autoclip-api"
    )
    assert {"sub", "org_id", "role", "permissions", "sid", "typ", "iss", "aud", "exp", "iat"} <= (
        set(claims)
    )
    assert claims["typ"] == "access"
    assert claims["iss"] == "autoclip"
    assert claims["aud"] == "autoclip-api"
    assert claims["role"] == "owner"
    assert claims["permissions"] == sorted(
        [
            "analytics.read",
            "contents.approve",
            "contents.create",
            "contents.publish",
            "projects.create",
            "projects.delete",
            "projects.read",
            "projects.update",
            "settings.modify",
        ]
    )
    assert claims["exp"] - claims["iat"] == 15 * 60


async def test_refresh_token_claims_and_7_day_lifetime(client: ApiClient) -> None:
    account = await client.register()
    claims = jwt.decode(
        account.refresh_token, JWT_SECRET, algorithms=["HS256"], audience="autoclip-api"
    )
    assert claims["typ"] == "refresh"
    assert claims["sid"] == account.claims["sid"]
    assert claims["sub"] == account.user_id
    assert claims["exp"] - claims["iat"] == 7 * 24 * 3600


async def test_a_valid_token_is_accepted(client: ApiClient) -> None:
    account = await client.register()
    assert await _status(client, account.access_token) == 200


async def _valid_claims(client: ApiClient) -> tuple[Account, dict[str, object]]:
    account = await client.register()
    claims = jwt.decode(
        account.access_token, JWT_SECRET, algorithms=["HS256"], audience="autoclip-api"
    )
    return account, claims


async def test_alg_none_is_refused(client: ApiClient) -> None:
    _, claims = await _valid_claims(client)
    for alg in ("none", "None", "NONE"):
        token = f"{_b64({'alg': alg, 'typ': 'JWT'})}.{_b64(claims)}."
        assert await _status(client, token) == 401


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
async def test_other_algorithms_are_refused_even_with_the_right_key(
    client: ApiClient, algorithm: str
) -> None:
    _, claims = await _valid_claims(client)
    token = jwt.encode(claims, JWT_SECRET, algorithm=algorithm)
    assert await _status(client, token) == 401


async def test_asymmetric_algorithm_header_is_refused(client: ApiClient) -> None:
    # The classic confusion attack: RS256 in the header, signed with HMAC over the "public key".
    _, claims = await _valid_claims(client)
    header = _b64({"alg": "RS256", "typ": "JWT"})
    payload = _b64(claims)
    signature = hmac.new(JWT_SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    sig = base64.urlsafe_b64encode(signature.digest()).rstrip(b"=").decode()
    assert await _status(client, f"{header}.{payload}.{sig}") == 401


async def test_tampered_signature_and_payload_are_refused(client: ApiClient) -> None:
    account, claims = await _valid_claims(client)
    header, payload, signature = account.access_token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    assert await _status(client, f"{header}.{payload}.{flipped}") == 401
    escalated = _b64({**claims, "role": "owner", "org_id": "f" * 32})
    assert await _status(client, f"{header}.{escalated}.{signature}") == 401


async def test_token_signed_with_another_key_is_refused(client: ApiClient) -> None:
    _, claims = await _valid_claims(client)
    assert await _status(client, jwt.encode(claims, "another-secret-" * 4, "HS256")) == 401


@pytest.mark.parametrize(
    "override",
    [{"aud": "someone-else"}, {"aud": ["autoclip-api", "x"]}, {"iss": "https://evil.example"}],
)
async def test_wrong_audience_or_issuer_is_refused(
    client: ApiClient, override: dict[str, object]
) -> None:
    _, claims = await _valid_claims(client)
    assert await _status(client, forge(JWT_SECRET, {**claims, **override})) == 401


async def test_expired_token_is_refused(client: ApiClient) -> None:
    _, claims = await _valid_claims(client)
    past = datetime.now(UTC) - timedelta(minutes=16)
    expired = forge(JWT_SECRET, {**claims, "iat": past, "exp": past + timedelta(minutes=15)})
    assert await _status(client, expired) == 401


@pytest.mark.parametrize("missing", ["exp", "sid", "sub", "typ", "iat"])
async def test_token_missing_a_required_claim_is_refused(client: ApiClient, missing: str) -> None:
    _, claims = await _valid_claims(client)
    token = jwt.encode(
        {k: v for k, v in claims.items() if k != missing}, JWT_SECRET, algorithm="HS256"
    )
    assert await _status(client, token) == 401


async def test_refresh_token_cannot_be_used_as_access_token(client: ApiClient) -> None:
    account = await client.register()
    assert await _status(client, account.refresh_token) == 401


async def test_access_token_cannot_be_used_as_refresh_token(client: ApiClient) -> None:
    account = await client.register()
    response = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": account.access_token}
    )
    assert response.status_code == 401


async def test_forged_session_id_is_refused(client: ApiClient) -> None:
    # A correctly signed token whose session does not exist (e.g. minted with a leaked key
    # after a logout) is still refused: every request checks the session.
    _, claims = await _valid_claims(client)
    assert await _status(client, forge(JWT_SECRET, {**claims, "sid": "0" * 32})) == 401


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "Bearer not.a.jwt", "Bearer a.b"],
)
async def test_malformed_authorization_headers_are_401(
    client: ApiClient, authorization: str
) -> None:
    response = await client.get("/api/v1/users/me", headers={"Authorization": authorization})
    assert response.status_code == 401


def test_a_remembered_token_is_refused_once_it_expires() -> None:
    """Verified access tokens are remembered per process, never past their ``exp``."""
    codec = TokenCodec(JWT_SECRET, issuer="autoclip", audience="autoclip-api")
    now = datetime.now(UTC)
    token = forge(
        JWT_SECRET,
        {"sub": "u" * 32, "sid": "s" * 32, "org_id": None, "iat": now,
         "exp": now + timedelta(seconds=2)},
    )  # fmt: skip
    assert codec.decode_access(token).user_id == "u" * 32
    assert codec.decode_access(token).user_id == "u" * 32  # remembered
    time.sleep(max(0.0, (now + timedelta(seconds=2.05) - datetime.now(UTC)).total_seconds()))
    with pytest.raises(InvalidTokenError):
        codec.decode_access(token)


def test_a_remembered_token_does_not_vouch_for_a_tampered_copy() -> None:
    codec = TokenCodec(JWT_SECRET, issuer="autoclip", audience="autoclip-api")
    token = codec.access_token(
        user_id="u" * 32,
        session_id="s" * 32,
        org_id=None,
        role=None,
        pair_jti="j" * 32,
        now=datetime.now(UTC),
    )
    codec.decode_access(token)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    tampered = ".".join([header, _b64({**claims, "sub": "x" * 32}), signature])
    with pytest.raises(InvalidTokenError):
        codec.decode_access(tampered)
    with pytest.raises(InvalidTokenError):
        codec.decode_access(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
