"""TikTok's OAuth v2 against the fake TikTok (tests/fakes/tiktok.py): the authorization URL
with PKCE, the callback's code exchange, the creator's identity, access tokens renewed under the
TokenStore lock with the rotated refresh token kept — never one refresh token spent twice, even
by two renewals at once; and connecting a channel loads no Dagster into the API."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from resources.errors import ReconnectRequired
from resources.publisher.base import OAuthTokens, TokenStore
from resources.publisher.tiktok_api import TikTokAPI, TikTokError
from resources.publisher.tiktok_oauth import (
    AccountTokens,
    TikTokOAuth,
    code_challenge,
    refresh_grant,
)
from tests.fakes.publishing import MemoryTokenStore
from tests.fakes.server import FakeServer
from tests.fakes.tiktok import CREATOR_INFO_PATH, TOKEN_PATH, FakeClock, FakeTikTok

AccountAPI = Callable[[TokenStore], TikTokAPI]

REDIRECT_URI = "https://autoclip.example/api/v1/channels/oauth/tiktok/callback"
VERIFIER = "a-verifier-of-enough-entropy-0123456789-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
def oauth(tiktok: FakeTikTok, clock: FakeClock) -> TikTokOAuth:
    return TikTokOAuth(
        tiktok.base_url,
        client_key=tiktok.client_key,
        client_secret=tiktok.client_secret,
        sleep=clock.sleep,
        clock=clock,
    )


@pytest.fixture
def account_api(tiktok: FakeTikTok, clock: FakeClock) -> Iterator[AccountAPI]:
    """The API speaking for the account whose tokens a store keeps, as the publisher builds it."""
    made: list[TikTokAPI] = []

    def make(store: TokenStore) -> TikTokAPI:
        api = TikTokAPI(
            tiktok.base_url,
            client_key=tiktok.client_key,
            client_secret=tiktok.client_secret,
            timeout_s=5.0,
            sleep=clock.sleep,
            clock=clock,
        )
        made.append(api)
        return AccountTokens.serving(api, store)

    yield make
    for api in made:
        api.close()


def test_the_authorization_url_asks_for_the_publishing_scopes_with_state_and_pkce(
    oauth: TikTokOAuth,
) -> None:
    url = oauth.authorization_url(
        redirect_uri=REDIRECT_URI, state="state-123", code_verifier=VERIFIER
    )
    parts = urlsplit(url)
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}"
        == "https://www.tiktok.com/v2/auth/authorize/"
    )
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "client_key": oauth.client_key,
        "scope": "user.info.basic,video.publish,video.upload,video.list",
        "redirect_uri": REDIRECT_URI,
        "state": "state-123",
        "response_type": "code",
        "code_challenge": code_challenge(VERIFIER),
        "code_challenge_method": "S256",
    }
    assert len(query["code_challenge"]) == 64  # hex SHA-256, as TikTok's desktop flow sends it


def test_the_callbacks_code_and_verifier_become_tokens_and_the_creator_is_read(
    oauth: TikTokOAuth, tiktok: FakeTikTok, clock: FakeClock
) -> None:
    code = tiktok.authorize(
        redirect_uri=REDIRECT_URI,
        code_challenge=code_challenge(VERIFIER),
        scope="user.info.basic,video.publish,video.upload",
    )

    grant = oauth.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=VERIFIER)

    assert grant.open_id == tiktok.creator.open_id
    assert set(grant.scope) == {"user.info.basic", "video.publish", "video.upload"}
    assert grant.expires_at.timestamp() == pytest.approx(clock() + 86_400)
    [form] = tiktok.token_requests
    assert form["grant_type"] == "authorization_code"
    assert form["code_verifier"] == VERIFIER
    creator = oauth.identity(grant.access_token)
    assert (creator.username, creator.nickname) == ("ada.clips", "Ada Clips")
    assert "SELF_ONLY" in creator.privacy_level_options


def test_a_wrong_verifier_is_refused_and_the_error_shows_no_secret(
    oauth: TikTokOAuth, tiktok: FakeTikTok
) -> None:
    code = tiktok.authorize(
        redirect_uri=REDIRECT_URI, code_challenge=code_challenge(VERIFIER), scope="video.upload"
    )
    with pytest.raises(TikTokError) as caught:
        oauth.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier="other")
    assert caught.value.code == "invalid_request"
    assert not caught.value.retryable
    assert tiktok.client_secret not in str(caught.value)
    assert code not in str(caught.value)


def test_a_refresh_token_from_settings_is_rotated_and_the_new_one_stored(
    account_api: AccountAPI, tiktok: FakeTikTok, clock: FakeClock
) -> None:
    first = tiktok.grant()
    store = MemoryTokenStore(refresh_token=first)
    api = account_api(store)

    api.creator_info()

    [saved] = store.saved
    assert saved.refresh_token not in (None, first)
    assert saved.expires_at is not None
    assert saved.expires_at.timestamp() == pytest.approx(clock() + 86_400)
    # TikTok rotated it: the first one is spent, and the stored one is the one that works
    with pytest.raises(TikTokError) as caught:
        refresh_grant(api, first)
    assert caught.value.code == "invalid_grant"
    refresh_grant(api, str(saved.refresh_token))


def test_a_valid_access_token_is_used_without_refreshing(
    account_api: AccountAPI, tiktok: FakeTikTok
) -> None:
    store = MemoryTokenStore(refresh_token=tiktok.grant())
    api = account_api(store)
    api.creator_info()
    api.creator_info()
    assert len(tiktok.refreshes()) == 1


def test_an_access_token_tiktok_refuses_is_renewed_once_and_the_call_repeated(
    account_api: AccountAPI, tiktok: FakeTikTok, server: FakeServer
) -> None:
    store = MemoryTokenStore(refresh_token=tiktok.grant())
    api = account_api(store)
    api.creator_info()
    tiktok.expire_access_tokens()  # TikTok ends it before the expiry we stored

    api.creator_info()

    assert len(tiktok.refreshes()) == 2
    statuses = [r.path for r in server.requests]
    assert statuses == [
        TOKEN_PATH,
        CREATOR_INFO_PATH,
        CREATOR_INFO_PATH,
        TOKEN_PATH,
        CREATOR_INFO_PATH,
    ]


def test_invalid_grant_marks_the_channel_reconnect_required_and_stops(
    account_api: AccountAPI, server: FakeServer
) -> None:
    store = MemoryTokenStore(refresh_token="rft.revoked-or-spent")
    with pytest.raises(ReconnectRequired, match="invalid_grant"):
        account_api(store).creator_info()
    assert len(store.reconnect_reasons) == 1
    assert "invalid_grant" in store.reconnect_reasons[0]
    assert not server.hits(CREATOR_INFO_PATH)


def test_a_channel_without_a_refresh_token_must_be_reconnected(
    account_api: AccountAPI, server: FakeServer
) -> None:
    store = MemoryTokenStore(refresh_token=None)
    with pytest.raises(ReconnectRequired, match="no refresh token"):
        account_api(store).creator_info()
    assert store.reconnect_reasons
    assert not server.requests


class StaleAtOnce(MemoryTokenStore):
    """Both renewals read the expired tokens before either refreshes (a barrier in
    ``current``), so the lock in ``refreshing`` is all that keeps them apart; ``locked=False``
    takes the lock away, to show what it prevents."""

    def __init__(self, refresh_token: str, *, locked: bool = True) -> None:
        super().__init__(refresh_token=refresh_token)
        self.barrier = threading.Barrier(2, timeout=10)
        self.locked = locked

    def current(self) -> OAuthTokens:
        tokens = super().current()
        self.barrier.wait()
        return tokens

    @contextmanager
    def refreshing(self) -> Iterator[OAuthTokens]:
        if self.locked:
            with super().refreshing() as tokens:
                yield tokens
        else:
            yield self.tokens


def renew_at_once(api: TikTokAPI) -> list[str | BaseException]:
    results: list[str | BaseException] = []

    def renew() -> None:
        try:
            results.append(api.token())
        except BaseException as exc:
            results.append(exc)

    threads = [threading.Thread(target=renew) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return results


def test_two_renewals_at_once_spend_the_refresh_token_once(
    account_api: AccountAPI, tiktok: FakeTikTok
) -> None:
    store = StaleAtOnce(tiktok.grant())

    results = renew_at_once(account_api(store))

    assert len(tiktok.refreshes()) == 1
    assert len(results) == 2
    assert results[0] == results[1] == store.tokens.access_token
    assert store.reconnect_reasons == []


def test_without_the_lock_two_renewals_burn_the_refresh_token(
    account_api: AccountAPI, tiktok: FakeTikTok
) -> None:
    """What the lock prevents: the second refresh presents a token TikTok already rotated."""
    store = StaleAtOnce(tiktok.grant(), locked=False)

    results = renew_at_once(account_api(store))

    assert len(tiktok.refreshes()) == 2
    assert sum(isinstance(r, ReconnectRequired) for r in results) == 1
    assert store.reconnect_reasons


def test_a_token_about_to_expire_is_renewed_before_use(
    account_api: AccountAPI, tiktok: FakeTikTok, clock: FakeClock
) -> None:
    store = MemoryTokenStore(refresh_token=tiktok.grant())
    api = account_api(store)
    api.creator_info()
    clock.sleep(86_400 - 30)  # within the minute of margin
    api.creator_info()
    assert len(tiktok.refreshes()) == 2
    assert store.saved[-1].expires_at is not None
    assert store.saved[-1].expires_at - store.saved[0].expires_at == timedelta(seconds=86_370)


@pytest.mark.parametrize(
    ("module", "loads_dagster"),
    [("autoclip_api.channels.connectors", False), ("resources.publisher.tiktok", True)],
)
def test_the_apis_channel_connector_loads_no_dagster_unlike_the_publisher(
    module: str, loads_dagster: bool
) -> None:
    """The API connects TikTok channels through this module alone: the publisher (a Dagster
    resource) would bring Dagster into every API process."""
    probe = f"import sys, {module}; print('dagster' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == str(loads_dagster)
