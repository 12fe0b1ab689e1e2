"""Google sign-in (authorization code + PKCE) against a fake identity provider on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from fastapi import FastAPI

from autoclip_api.auth.oauth import GoogleProvider, OAuthRejectedError, pkce_challenge
from tests.api.conftest import client_for, outbox_of
from tests.api.google_flow import authorize, authorize_body, consent, pkce_verifier, sign_in
from tests.api.helpers import ApiClient, problem
from tests.fakes.google_idp import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, FakeGoogle

pytestmark = pytest.mark.anyio


@pytest.fixture
def oauth_app(app_factory: Callable[..., FastAPI], google: FakeGoogle) -> FastAPI:
    return app_factory(**google.app_settings(REDIRECT_URI, "https://app.autoclip.example/cb"))


@pytest.fixture
async def oauth_client(oauth_app: FastAPI) -> AsyncIterator[ApiClient]:
    async with client_for(oauth_app) as http:
        yield ApiClient(http, outbox_of(oauth_app))


async def test_authorization_url_carries_pkce_s256_state_and_nonce(
    oauth_client: ApiClient, google: FakeGoogle
) -> None:
    verifier = pkce_verifier()
    url, state = await authorize(oauth_client, verifier)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == google.authorization_endpoint
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == pkce_challenge(verifier)  # the client's own
    assert verifier not in url
    assert query["state"] == state
    assert len(query["nonce"]) >= 20
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    assert CLIENT_SECRET not in url


async def test_new_google_user_gets_an_account_and_an_org(
    oauth_client: ApiClient, google: FakeGoogle
) -> None:
    response = await sign_in(oauth_client)
    assert response.status_code == 200, response.text
    tokens = response.json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = (await oauth_client.get("/api/v1/users/me", headers=headers)).json()
    assert me["email"] == "grace@gmail.example"
    assert me["name"] == "Grace Hopper"
    assert me["role"] == "owner"
    orgs = (await oauth_client.get("/api/v1/orgs", headers=headers)).json()["items"]
    assert [o["name"] for o in orgs] == ["Grace Hopper's organisation"]
    # the token exchange sent the verifier and the secret over the back channel
    exchange = google.token_requests[-1]
    assert exchange["code_verifier"]
    assert exchange["client_secret"] == CLIENT_SECRET
    # signing in again reuses the account (and opens a new session)
    again = (await sign_in(oauth_client)).json()
    claims = jwt.decode(again["access_token"], options={"verify_signature": False})
    assert claims["sub"] == me["id"]
    assert (
        claims["sid"]
        != jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]
    )
    # an OAuth-only account has no password to sign in with
    login = await oauth_client.post(
        "/api/v1/auth/login", json={"email": me["email"], "password": "anything at all"}
    )
    assert login.status_code == 401


async def test_an_account_is_linked_only_once_its_owner_proved_the_address(
    oauth_client: ApiClient, google: FakeGoogle
) -> None:
    account = await oauth_client.register(email="grace@gmail.example")
    refused = await sign_in(oauth_client)
    assert refused.status_code == 409
    assert refused.json() == problem(
        409,
        "An account with this e-mail address exists: sign in with your password and link "
        "Google from your settings (forgot the password? POST /api/v1/auth/password/forgot)",
    )
    await oauth_client.verify_email(account)
    response = await sign_in(oauth_client)
    assert response.status_code == 200
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["sub"] == account.user_id
    assert claims["org_id"] == account.org_id


async def test_unverified_email_is_refused(oauth_client: ApiClient, google: FakeGoogle) -> None:
    google.user.email_verified = False
    response = await sign_in(oauth_client)
    assert response.status_code == 401


async def test_a_state_and_code_redeemed_by_another_client_fail(
    oauth_app: FastAPI, oauth_client: ApiClient, google: FakeGoogle
) -> None:
    """Whoever gets hold of the redirect (code and state: a log, a Referer, a shared link)
    tries to finish the sign-in: only the client that started it holds the PKCE verifier."""
    url, state = await authorize(oauth_client, pkce_verifier())
    code, _ = consent(url)  # the victim's browser comes back with these...
    async with client_for(oauth_app, ip="203.0.113.66") as attacker:  # ...and they leak
        as_before = await attacker.post(
            "/api/v1/auth/oauth/google", json={"code": code, "state": state}
        )
        assert as_before.status_code == 422  # no verifier, no sign-in
        own_verifier = await attacker.post(
            "/api/v1/auth/oauth/google",
            json={"code": code, "state": state, "code_verifier": pkce_verifier()},
        )
    assert own_verifier.status_code == 401
    assert own_verifier.json() == problem(401, "OAuth sign-in failed")
    assert google.token_requests == []  # refused before the code went to Google
    assert "access_token" not in as_before.text + own_verifier.text


async def test_malformed_or_plain_challenges_are_refused(oauth_client: ApiClient) -> None:
    for challenge in ("short", "x" * 43 + "=", "+" * 43):
        response = await oauth_client.post(
            "/api/v1/auth/oauth/google/authorize",
            json={"redirect_uri": REDIRECT_URI, "code_challenge": challenge},
        )
        assert response.status_code == 422, challenge
    plain = await oauth_client.post(
        "/api/v1/auth/oauth/google/authorize",
        json={**authorize_body(pkce_verifier()), "code_challenge_method": "plain"},
    )
    assert plain.status_code == 422


async def test_state_is_single_use_and_must_be_known(
    oauth_client: ApiClient, google: FakeGoogle
) -> None:
    verifier = pkce_verifier()
    url, state = await authorize(oauth_client, verifier)
    code, _ = consent(url)
    callback = {"code": code, "state": state, "code_verifier": verifier}
    forged = await oauth_client.post(
        "/api/v1/auth/oauth/google", json={**callback, "state": "made-up-state"}
    )
    assert forged.status_code == 401
    ok = await oauth_client.post("/api/v1/auth/oauth/google", json=callback)
    assert ok.status_code == 200
    replay = await oauth_client.post("/api/v1/auth/oauth/google", json=callback)
    assert replay.status_code == 401
    assert replay.json() == problem(401, "Unknown or expired OAuth state")


async def test_redirect_uri_must_be_registered(oauth_client: ApiClient) -> None:
    response = await oauth_client.post(
        "/api/v1/auth/oauth/google/authorize",
        json=authorize_body(pkce_verifier(), "https://evil.example/cb"),
    )
    assert response.status_code == 400


async def test_unknown_or_unconfigured_provider_is_404(
    oauth_client: ApiClient, client: ApiClient
) -> None:
    authorize = authorize_body(pkce_verifier())
    response = await oauth_client.post("/api/v1/auth/oauth/github/authorize", json=authorize)
    assert response.status_code == 404
    # an app without Google credentials does not offer Google
    response = await client.post("/api/v1/auth/oauth/google/authorize", json=authorize)
    assert response.status_code == 404
    response = await client.post(
        "/api/v1/auth/oauth/google",
        json={"code": "c", "state": "s", "code_verifier": pkce_verifier()},
    )
    assert response.status_code == 404


async def test_provider_outage_is_502(oauth_client: ApiClient, google: FakeGoogle) -> None:
    google.token_status = 503
    response = await sign_in(oauth_client)
    assert response.status_code == 502
    assert response.json() == problem(502, "Identity provider unavailable")


@pytest.mark.parametrize(
    "override",
    [
        {"aud": "someone-else.apps.googleusercontent.com"},
        {"iss": "https://evil.example"},
        {"nonce": "replayed-nonce"},
        {"exp": 1_000_000_000},
    ],
)
async def test_id_token_claims_are_checked(
    oauth_client: ApiClient, google: FakeGoogle, override: dict[str, object]
) -> None:
    google.id_token_overrides = override
    response = await sign_in(oauth_client)
    assert response.status_code == 401


def test_id_token_transform_is_pure_and_strict() -> None:
    provider = GoogleProvider(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        authorization_endpoint="https://idp.example/auth",
        token_endpoint="https://idp.example/token",
    )
    now = datetime.now(UTC)
    claims = {
        "iss": "accounts.google.com",  # Google also uses the bare host
        "aud": CLIENT_ID,
        "sub": "42",
        "email": "Ada@Example.com",
        "email_verified": True,
        "nonce": "n0nce",
        "exp": int(now.timestamp()) + 60,
    }
    token = jwt.encode(claims, "k" * 32, algorithm="HS256")
    identity = provider.identity_from_token_response({"id_token": token}, nonce="n0nce", now=now)
    assert (identity.subject, identity.email, identity.email_verified, identity.name) == (
        "42",
        "ada@example.com",
        True,
        "ada@example.com",
    )
    for payload in ({}, {"id_token": 5}, {"id_token": "not-a-jwt"}):
        with pytest.raises(OAuthRejectedError):
            provider.identity_from_token_response(payload, nonce="n0nce", now=now)
    multi = jwt.encode({**claims, "aud": [CLIENT_ID, "other"]}, "k" * 32, algorithm="HS256")
    with pytest.raises(OAuthRejectedError, match="another party"):
        provider.identity_from_token_response({"id_token": multi}, nonce="n0nce", now=now)
