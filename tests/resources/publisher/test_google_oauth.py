"""Google OAuth for a YouTube channel against the fake Google: consent URL, code exchange with
PKCE, refresh, and the failures Google answers with."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from resources.errors import PublishError, ReconnectRequired
from resources.publisher.google_oauth import (
    PKCE,
    READONLY_SCOPE,
    UPLOAD_SCOPE,
    GoogleOAuth,
    authorization_url,
    challenge,
)
from resources.vendors.http import RetryPolicy
from tests.fakes.faults import malformed_json, stall, unavailable
from tests.fakes.fixtures import _loopback_only  # noqa: F401  (autouse: loopback only)
from tests.fakes.youtube_api import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    FakeYouTubeAPI,
    running_fake_youtube,
)

NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


@pytest.fixture
def google() -> Iterator[FakeYouTubeAPI]:
    with running_fake_youtube() as fake:
        yield fake


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def oauth(google: FakeYouTubeAPI, waits: list[float]) -> GoogleOAuth:
    return GoogleOAuth(
        base_url=google.base,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        timeout=0.2,
        policy=RetryPolicy(attempts=3, base=0.5, cap=4.0),
        sleep=waits.append,
        now=lambda: NOW,
    )


def consent(google: FakeYouTubeAPI, pkce: PKCE, state: str = "state-1") -> dict[str, str]:
    """The owner says yes on the fake consent screen: the redirect's query."""
    url = authorization_url(
        client_id=CLIENT_ID,
        redirect_uri=REDIRECT_URI,
        state=state,
        code_challenge=pkce.challenge,
        endpoint=f"{google.base}/o/oauth2/v2/auth",
    )
    answer = httpx.get(url)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT_URI)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_the_consent_url_asks_for_offline_access_both_scopes_and_an_s256_challenge() -> None:
    pkce = PKCE.new()
    url = authorization_url(
        client_id=CLIENT_ID, redirect_uri=REDIRECT_URI, state="s", code_challenge=pkce.challenge
    )

    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://accounts.google.com/o/oauth2/v2/auth"
    )
    assert query["access_type"] == "offline"
    assert query["prompt"] == "consent"
    assert query["response_type"] == "code"
    assert set(query["scope"].split()) == {UPLOAD_SCOPE, READONLY_SCOPE}
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == challenge(pkce.verifier) != pkce.verifier
    assert 43 <= len(pkce.verifier) <= 128


def test_the_code_and_its_verifier_buy_a_refresh_token_and_an_access_token(
    google: FakeYouTubeAPI, oauth: GoogleOAuth
) -> None:
    pkce = PKCE.new()
    redirect = consent(google, pkce, state="bound-to-org-and-channel")
    assert redirect["state"] == "bound-to-org-and-channel"

    tokens = oauth.exchange_code(
        redirect["code"], code_verifier=pkce.verifier, redirect_uri=REDIRECT_URI
    )

    assert tokens.access_token.startswith("ya29.")
    assert tokens.refresh_token is not None
    assert tokens.expires_at == NOW + timedelta(seconds=3599)
    assert set(tokens.scopes) == {UPLOAD_SCOPE, READONLY_SCOPE}
    sent = google.token_requests[-1]
    assert sent["grant_type"] == "authorization_code"
    assert sent["code_verifier"] == pkce.verifier


def test_a_wrong_verifier_or_a_used_code_is_refused_without_retrying(
    google: FakeYouTubeAPI, oauth: GoogleOAuth, waits: list[float]
) -> None:
    pkce = PKCE.new()
    code = consent(google, pkce)["code"]

    with pytest.raises(PublishError) as wrong:
        oauth.exchange_code(code, code_verifier=PKCE.new().verifier, redirect_uri=REDIRECT_URI)
    assert not wrong.value.retryable
    assert "invalid_grant" in str(wrong.value)
    assert not isinstance(wrong.value, ReconnectRequired)
    # the code was spent by the refused attempt, as Google's codes are single-use
    with pytest.raises(PublishError):
        oauth.exchange_code(code, code_verifier=pkce.verifier, redirect_uri=REDIRECT_URI)
    assert waits == []


def test_a_refresh_gives_a_new_access_token_and_keeps_the_refresh_token(
    google: FakeYouTubeAPI, oauth: GoogleOAuth
) -> None:
    refresh_token = google.grant_refresh_token()

    tokens = oauth.refresh(refresh_token)

    assert tokens.access_token.startswith("ya29.")
    assert tokens.refresh_token is None  # Google does not rotate: the stored one stays
    assert google.token_requests[-1]["grant_type"] == "refresh_token"


def test_a_revoked_refresh_token_is_reconnect_required_and_the_secrets_stay_out(
    google: FakeYouTubeAPI, oauth: GoogleOAuth, waits: list[float]
) -> None:
    refresh_token = google.grant_refresh_token()
    google.revoke(refresh_token)

    with pytest.raises(ReconnectRequired) as gone:
        oauth.refresh(refresh_token)

    assert "invalid_grant" in str(gone.value)
    assert "expired or revoked" in str(gone.value)
    assert refresh_token not in str(gone.value)
    assert CLIENT_SECRET not in str(gone.value)
    assert not gone.value.retryable
    assert waits == []


def test_503_a_stall_and_a_malformed_answer_are_retried_with_growing_waits(
    google: FakeYouTubeAPI, oauth: GoogleOAuth, waits: list[float]
) -> None:
    refresh_token = google.grant_refresh_token()
    google.inject("token", unavailable(503), malformed_json())

    tokens = oauth.refresh(refresh_token)

    assert tokens.access_token.startswith("ya29.")
    assert len(waits) == 2
    assert waits[1] > waits[0]

    google.inject("token", stall(0.3), stall(0.3), stall(0.3))
    with pytest.raises(PublishError) as timed_out:
        oauth.refresh(refresh_token)
    assert timed_out.value.retryable
    assert "timed out" in str(timed_out.value)


def test_an_unknown_client_fails_at_once(google: FakeYouTubeAPI, waits: list[float]) -> None:
    stranger = GoogleOAuth(
        base_url=google.base, client_id=CLIENT_ID, client_secret="wrong", sleep=waits.append
    )

    with pytest.raises(PublishError) as refused:
        stranger.refresh(google.grant_refresh_token())

    assert not refused.value.retryable
    assert "401" in str(refused.value)
    assert waits == []
