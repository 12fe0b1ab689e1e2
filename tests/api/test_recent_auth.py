"""Recent authentication (issue 16, finding 8): a first password, a new e-mail address and
linking or unlinking Google need a sign-in within the last 5 minutes (or the password
confirmed in the session), not just an access token."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, update

from autoclip_core.db.models import AuthSession, utcnow
from tests.api.conftest import client_for, outbox_of
from tests.api.google_flow import callback, sign_in
from tests.api.helpers import PASSWORD, Account, ApiClient
from tests.fakes.google_idp import FakeGoogle

pytestmark = pytest.mark.anyio

NEW_PASSWORD = "a first password of my own"
STEP_UP = 'Bearer error="insufficient_user_authentication"'


@pytest.fixture
async def client(
    app_factory: Callable[..., FastAPI], google: FakeGoogle
) -> AsyncIterator[ApiClient]:
    app = app_factory(**google.app_settings())
    async with client_for(app) as http:
        yield ApiClient(http, outbox_of(app))


@pytest.fixture
def age_sessions(pg_url: str) -> Callable[[], None]:
    """Every session authenticated 10 minutes ago: a token an attacker found, or a tab left
    open."""

    def age() -> None:
        engine = create_engine(pg_url)
        with engine.begin() as conn:
            conn.execute(
                update(AuthSession).values(authenticated_at=utcnow() - timedelta(minutes=10))
            )
        engine.dispose()

    return age


def _account(response: httpx.Response, email: str) -> Account:
    assert response.status_code == 200, response.text
    tokens = response.json()
    return Account(email, "", tokens["access_token"], tokens["refresh_token"])


def _assert_step_up(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith(STEP_UP)
    assert "max_age=300" in response.headers["www-authenticate"]
    assert "recent sign-in" in response.json()["detail"]


async def test_a_google_only_account_gets_a_first_password_only_after_a_recent_sign_in(
    client: ApiClient, google: FakeGoogle, age_sessions: Callable[[], None]
) -> None:
    """The attack: with nothing but an access token of a Google-only account, set a password
    and from then on sign in with it, without Google."""
    stolen = _account(await sign_in(client), google.user.email)
    age_sessions()
    refused = await client.patch(
        "/api/v1/users/me", json={"password": NEW_PASSWORD}, headers=stolen.headers
    )
    _assert_step_up(refused)
    login = await client.post(
        "/api/v1/auth/login", json={"email": google.user.email, "password": NEW_PASSWORD}
    )
    assert login.status_code == 401  # no password was set

    fresh = _account(await sign_in(client), google.user.email)  # the owner, at Google again
    allowed = await client.patch(
        "/api/v1/users/me", json={"password": NEW_PASSWORD}, headers=fresh.headers
    )
    assert allowed.status_code == 200
    assert allowed.json()["sign_in_methods"] == ["password", "google"]
    login = await client.post(
        "/api/v1/auth/login", json={"email": google.user.email, "password": NEW_PASSWORD}
    )
    assert login.status_code == 200
    client.outbox.wait_for(google.user.email, "notice:password.changed")


async def test_the_address_changes_after_a_recent_sign_in_and_a_link_to_the_new_one(
    client: ApiClient, age_sessions: Callable[[], None]
) -> None:
    account = await client.register()
    age_sessions()
    change = {"email": "new.address@example.com"}
    _assert_step_up(
        await client.post("/api/v1/users/me/email", json=change, headers=account.headers)
    )

    wrong = await client.post(
        "/api/v1/auth/reauthenticate",
        json={"password": "not my password!"},
        headers=account.headers,
    )
    assert wrong.status_code == 403
    confirmed = await client.post(
        "/api/v1/auth/reauthenticate", json={"password": PASSWORD}, headers=account.headers
    )
    assert confirmed.status_code == 204
    requested = await client.post("/api/v1/users/me/email", json=change, headers=account.headers)
    assert requested.status_code == 202
    client.outbox.wait_for(account.email, "notice:email.change_requested")
    me = (await client.get("/api/v1/users/me", headers=account.headers)).json()
    assert me["email"] == account.email  # nothing changes before the new address confirms

    token = client.outbox.token("new.address@example.com", "change_email")
    verified = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert verified.json() == {"email": "new.address@example.com", "email_verified": True}
    me = (await client.get("/api/v1/users/me", headers=account.headers)).json()
    assert (me["email"], me["email_verified"]) == ("new.address@example.com", True)
    notice = client.outbox.wait_for(account.email, "notice:email.changed")
    assert "new.address@example.com" in notice["text"]
    login = await client.post(
        "/api/v1/auth/login", json={"email": "new.address@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200


async def test_linking_and_unlinking_google_need_a_recent_sign_in(
    client: ApiClient, google: FakeGoogle, age_sessions: Callable[[], None]
) -> None:
    account = await client.register(email="someone@example.com")
    age_sessions()
    link = "/api/v1/users/me/identities/google"
    _assert_step_up(await client.post(link, json=await callback(client), headers=account.headers))

    await client.post(
        "/api/v1/auth/reauthenticate", json={"password": PASSWORD}, headers=account.headers
    )
    linked = await client.post(link, json=await callback(client), headers=account.headers)
    assert linked.status_code == 204
    me = (await client.get("/api/v1/users/me", headers=account.headers)).json()
    assert me["sign_in_methods"] == ["password", "google"]
    via_google = _account(await sign_in(client), google.user.email)
    assert via_google.user_id == account.user_id  # Google now signs into this account
    client.outbox.wait_for(account.email, "notice:identity.linked")

    age_sessions()
    _assert_step_up(await client.delete(link, headers=account.headers))
    await client.post(
        "/api/v1/auth/reauthenticate", json={"password": PASSWORD}, headers=account.headers
    )
    assert (await client.delete(link, headers=account.headers)).status_code == 204
    me = (await client.get("/api/v1/users/me", headers=account.headers)).json()
    assert me["sign_in_methods"] == ["password"]


async def test_google_is_not_unlinked_from_an_account_with_no_other_way_in(
    client: ApiClient,
) -> None:
    account = _account(await sign_in(client), "grace@gmail.example")
    refused = await client.delete("/api/v1/users/me/identities/google", headers=account.headers)
    assert refused.status_code == 409
    reauth = await client.post(
        "/api/v1/auth/reauthenticate", json={"password": "anything at all"}, headers=account.headers
    )
    assert reauth.status_code == 409  # no password: sign in with Google again instead


async def test_confirming_the_password_is_throttled_like_a_sign_in(client: ApiClient) -> None:
    account = await client.register()
    statuses = [
        (
            await client.post(
                "/api/v1/auth/reauthenticate",
                json={"password": f"guess number {i}!"},
                headers=account.headers,
            )
        ).status_code
        for i in range(6)
    ]
    assert statuses == [403] * 5 + [429]
