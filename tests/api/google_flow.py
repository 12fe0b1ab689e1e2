"""Google sign-in as a client does it, against the fake identity provider: a PKCE verifier
kept by the client, ``/authorize``, the browser at the provider, the code and state back."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

import httpx

from autoclip_api.auth.oauth import pkce_challenge
from tests.api.helpers import ApiClient
from tests.fakes.google_idp import REDIRECT_URI


def pkce_verifier() -> str:
    """What a client keeps for itself while the user is at Google (RFC 7636 §4.1)."""
    return secrets.token_urlsafe(48)


def authorize_body(verifier: str, redirect_uri: str = REDIRECT_URI) -> dict[str, str]:
    return {"redirect_uri": redirect_uri, "code_challenge": pkce_challenge(verifier)}


async def authorize(client: ApiClient, verifier: str) -> tuple[str, str]:
    response = await client.post(
        "/api/v1/auth/oauth/google/authorize", json=authorize_body(verifier)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return body["authorization_url"], body["state"]


def consent(authorization_url: str) -> tuple[str, str]:
    """The browser at the provider: follow the URL, read code and state off the redirect."""
    response = httpx.get(authorization_url, follow_redirects=False)
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    return query["code"][0], query["state"][0]


async def callback(client: ApiClient) -> dict[str, str]:
    """A completed flow's callback: what a client sends to finish it."""
    verifier = pkce_verifier()
    url, state = await authorize(client, verifier)
    code, returned_state = consent(url)
    assert returned_state == state
    return {"code": code, "state": state, "code_verifier": verifier}


async def sign_in(client: ApiClient) -> httpx.Response:
    return await client.post("/api/v1/auth/oauth/google", json=await callback(client))
