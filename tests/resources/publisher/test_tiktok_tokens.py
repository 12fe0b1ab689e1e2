"""TikTok's OAuth v2 through TikTokPublisher against the fake TikTok: the authorization URL with
PKCE, the code exchange of the OAuth callback, the creator's identity, and access tokens renewed
under the TokenStore lock with the rotated refresh token kept — never one refresh token spent
twice, even by two renewals at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from resources.errors import ReconnectRequired
from resources.publisher.base import OAuthTokens
from resources.publisher.tiktok import TikTokAPI, TikTokError, TikTokPublisher, code_challenge
from tests.fakes.net import running_server
from tests.fakes.publishing import MemoryTokenStore
from tests.fakes.server import FakeServer
from tests.fakes.tiktok import CREATOR_INFO_PATH, TOKEN_PATH, FakeClock, FakeTikTok

REDIRECT_URI = "https://autoclip.example/api/v1/channels/oauth/tiktok/callback"
VERIFIER = "a-verifier-of-enough-entropy-0123456789-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(scope="module")
def _server() -> Iterator[FakeServer]:
    with running_server() as s:
        yield s


@pytest.fixture
def server(_server: FakeServer) -> FakeServer:
    with _server._lock:
        _server.routes.clear()
        _server.requests.clear()
    return _server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tiktok(server: FakeServer, clock: FakeClock) -> FakeTikTok:
    return FakeTikTok(server, clock=clock)


@pytest.fixture
def publisher(tiktok: FakeTikTok, clock: FakeClock) -> TikTokPublisher:
    return TikTokPublisher(
        client_key=tiktok.client_key,
        client_secret=tiktok.client_secret,
        base_url=tiktok.base_url,
    ).on_clock(clock, clock.sleep)


def test_the_authorization_url_asks_for_the_publishing_scopes_with_state_and_pkce(
    publisher: TikTokPublisher,
) -> None:
    url = publisher.authorization_url(
        redirect_uri=REDIRECT_URI, state="state-123", code_verifier=VERIFIER
    )
    parts = urlsplit(url)
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}"
        == "https://www.tiktok.com/v2/auth/authorize/"
    )
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "client_key": publisher.client_key,
        "scope": "user.info.basic,video.publish,video.upload,video.list",
        "redirect_uri": REDIRECT_URI,
        "state": "state-123",
        "response_type": "code",
        "code_challenge": code_challenge(VERIFIER),
        "code_challenge_method": "S256",
    }
    assert len(query["code_challenge"]) == 64  # hex SHA-256, as TikTok's desktop flow sends it


def test_the_callbacks_code_and_verifier_become_tokens_and_the_creator_is_read(
    publisher: TikTokPublisher, tiktok: FakeTikTok, clock: FakeClock
) -> None:
    code = tiktok.authorize(
        redirect_uri=REDIRECT_URI,
        code_challenge=code_challenge(VERIFIER),
        scope="user.info.basic,video.publish,video.upload",
    )

    grant = publisher.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier=VERIFIER)

    assert grant.open_id == tiktok.creator.open_id
    assert set(grant.scope) == {"user.info.basic", "video.publish", "video.upload"}
    assert grant.expires_at.timestamp() == pytest.approx(clock() + 86_400)
    [form] = tiktok.token_requests
    assert form["grant_type"] == "authorization_code"
    assert form["code_verifier"] == VERIFIER
    creator = publisher.identity(grant.access_token)
    assert (creator.username, creator.nickname) == ("ada.clips", "Ada Clips")
    assert "SELF_ONLY" in creator.privacy_level_options


def test_a_wrong_verifier_is_refused_and_the_error_shows_no_secret(
    publisher: TikTokPublisher, tiktok: FakeTikTok
) -> None:
    code = tiktok.authorize(
        redirect_uri=REDIRECT_URI, code_challenge=code_challenge(VERIFIER), scope="video.upload"
    )
    with pytest.raises(TikTokError) as caught:
        publisher.exchange_code(code=code, redirect_uri=REDIRECT_URI, code_verifier="other")
    assert caught.value.code == "invalid_request"
    assert not caught.value.retryable
    assert tiktok.client_secret not in str(caught.value)
    assert code not in str(caught.value)


def test_a_refresh_token_from_settings_is_rotated_and_the_new_one_stored(
    publisher: TikTokPublisher, tiktok: FakeTikTok, clock: FakeClock
) -> None:
    first = tiktok.grant()
    store = MemoryTokenStore(refresh_token=first)
    api = publisher.api(store)

    api.creator_info()

    [saved] = store.saved
    assert saved.refresh_token not in (None, first)
    assert saved.expires_at is not None
    assert saved.expires_at.timestamp() == pytest.approx(clock() + 86_400)
    # TikTok rotated it: the first one is spent, and the stored one is the one that works
    with pytest.raises(TikTokError) as caught:
        api.refresh_grant(first)
    assert caught.value.code == "invalid_grant"
    api.refresh_grant(str(saved.refresh_token))


def test_a_valid_access_token_is_used_without_refreshing(
    publisher: TikTokPublisher, tiktok: FakeTikTok
) -> None:
    store = MemoryTokenStore(refresh_token=tiktok.grant())
    api = publisher.api(store)
    api.creator_info()
    api.creator_info()
    assert len(tiktok.refreshes()) == 1


def test_an_access_token_tiktok_refuses_is_renewed_once_and_the_call_repeated(
    publisher: TikTokPublisher, tiktok: FakeTikTok, server: FakeServer
) -> None:
    store = MemoryTokenStore(refresh_token=tiktok.grant())
    api = publisher.api(store)
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
    publisher: TikTokPublisher, tiktok: FakeTikTok, server: FakeServer
) -> None:
    store = MemoryTokenStore(refresh_token="rft.revoked-or-spent")
    with pytest.raises(ReconnectRequired, match="invalid_grant"):
        publisher.api(store).creator_info()
    assert len(store.reconnect_reasons) == 1
    assert "invalid_grant" in store.reconnect_reasons[0]
    assert not server.hits(CREATOR_INFO_PATH)


def test_a_channel_without_a_refresh_token_must_be_reconnected(
    publisher: TikTokPublisher, server: FakeServer
) -> None:
    store = MemoryTokenStore(refresh_token=None)
    with pytest.raises(ReconnectRequired, match="no refresh token"):
        publisher.api(store).creator_info()
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
    publisher: TikTokPublisher, tiktok: FakeTikTok
) -> None:
    store = StaleAtOnce(tiktok.grant())

    results = renew_at_once(publisher.api(store))

    assert len(tiktok.refreshes()) == 1
    assert len(results) == 2
    assert results[0] == results[1] == store.tokens.access_token
    assert store.reconnect_reasons == []


def test_without_the_lock_two_renewals_burn_the_refresh_token(
    publisher: TikTokPublisher, tiktok: FakeTikTok
) -> None:
    """What the lock prevents: the second refresh presents a token TikTok already rotated."""
    store = StaleAtOnce(tiktok.grant(), locked=False)

    results = renew_at_once(publisher.api(store))

    assert len(tiktok.refreshes()) == 2
    assert sum(isinstance(r, ReconnectRequired) for r in results) == 1
    assert store.reconnect_reasons


def test_a_token_about_to_expire_is_renewed_before_use(
    publisher: TikTokPublisher, tiktok: FakeTikTok, clock: FakeClock
) -> None:
    store = MemoryTokenStore(refresh_token=tiktok.grant())
    api = publisher.api(store)
    api.creator_info()
    clock.sleep(86_400 - 30)  # within the minute of margin
    api.creator_info()
    assert len(tiktok.refreshes()) == 2
    assert store.saved[-1].expires_at is not None
    assert store.saved[-1].expires_at - store.saved[0].expires_at == timedelta(seconds=86_370)
