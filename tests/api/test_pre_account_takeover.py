"""The pre-account takeover, replayed against the real server (issue 16, finding 1).

The attacker registers the victim's e-mail address with a password of their own, then waits:
when the victim signs in with Google, that sign-in used to be linked silently to the
attacker's account, so both were in the same account. Now an address nobody proved is never
linked, and the mailed links (the log outbox under the server's data dir) are how its owner
takes the address back.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from autoclip_api.auth.oauth import pkce_challenge
from tests.api.helpers import Outbox
from tests.api.live_server import LiveServer, live_api
from tests.fakes.google_idp import REDIRECT_URI, FakeGoogle

ATTACKER, VICTIM = "127.0.0.2", "127.0.0.3"
VICTIM_EMAIL = "grace@gmail.example"  # the fake IdP's user
ATTACKER_PASSWORD = "attacker knows this one"


@pytest.fixture
def server(tmp_path: Path, pg_url: str, redis_url: str, google: FakeGoogle) -> Iterator[LiveServer]:
    with live_api(tmp_path, pg_url, redis_url, **google.app_settings()) as live:
        yield live


def _google_sign_in(http: httpx.Client) -> httpx.Response:
    """The victim's browser: authorize, consent at the (fake) IdP, come back with the code."""
    verifier = secrets.token_urlsafe(48)
    started = http.post(
        "/api/v1/auth/oauth/google/authorize",
        json={"redirect_uri": REDIRECT_URI, "code_challenge": pkce_challenge(verifier)},
    )
    assert started.status_code == 200, started.text
    consent = httpx.get(started.json()["authorization_url"], follow_redirects=False)
    query = parse_qs(urlsplit(consent.headers["location"]).query)
    return http.post(
        "/api/v1/auth/oauth/google",
        json={"code": query["code"][0], "state": query["state"][0], "code_verifier": verifier},
    )


def _subject(tokens: dict[str, str]) -> str:
    return str(jwt.decode(tokens["access_token"], options={"verify_signature": False})["sub"])


def test_google_sign_in_never_lands_in_an_account_someone_registered_with_its_address(
    server: LiveServer, tmp_path: Path
) -> None:
    outbox = Outbox.of(tmp_path / "data")
    with server.client(ATTACKER) as attacker, server.client(VICTIM) as victim:
        squatted = attacker.post(
            "/api/v1/auth/register",
            json={"email": VICTIM_EMAIL, "password": ATTACKER_PASSWORD, "name": "Grace",
                  "org_name": "Grace's"},
        )  # fmt: skip
        assert squatted.status_code == 201
        attacker_tokens = squatted.json()

        refused = _google_sign_in(victim)
        assert refused.status_code == 409, refused.text
        assert "sign in with your password and link Google" in refused.json()["detail"]
        assert "access_token" not in refused.text

        # The victim takes the address back through the mailbox only they can read.
        assert (
            victim.post("/api/v1/auth/password/forgot", json={"email": VICTIM_EMAIL}).status_code
            == 202
        )
        token = outbox.token(VICTIM_EMAIL, "password_reset")
        reset = victim.post(
            "/api/v1/auth/password/reset",
            json={"token": token, "password": "the victim's own passphrase"},
        )
        assert reset.status_code == 204
        # The attacker's password and sessions are gone.
        bearer = {"Authorization": f"Bearer {attacker_tokens['access_token']}"}
        assert attacker.get("/api/v1/users/me", headers=bearer).status_code == 401
        assert (
            attacker.post(
                "/api/v1/auth/refresh", json={"refresh_token": attacker_tokens["refresh_token"]}
            ).status_code
            == 401
        )
        assert (
            attacker.post(
                "/api/v1/auth/login", json={"email": VICTIM_EMAIL, "password": ATTACKER_PASSWORD}
            ).status_code
            == 401
        )
        # The address is proven now: Google signs its owner in.
        signed_in = _google_sign_in(victim)
        assert signed_in.status_code == 200, signed_in.text
        assert _subject(signed_in.json()) == _subject(attacker_tokens)
