"""Registration, password sign-in, refresh-token rotation and logout."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable

import httpx
import jwt
import pytest
from fastapi import FastAPI

from autoclip_core.settings import Settings
from tests.api.conftest import client_for
from tests.api.helpers import PASSWORD, ApiClient, problem

pytestmark = pytest.mark.anyio


async def test_register_creates_user_and_org_with_user_as_owner(client: ApiClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "Ada@Example.com", "password": PASSWORD, "name": "Ada", "org_name": "Acme"},
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    me = (
        await client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
        )
    ).json()
    assert me["email"] == "ada@example.com"
    assert me["role"] == "owner"
    assert "settings.modify" in me["permissions"]
    orgs = (
        await client.get(
            "/api/v1/orgs", headers={"Authorization": f"Bearer {body['access_token']}"}
        )
    ).json()
    assert [(o["id"], o["name"], o["role"]) for o in orgs["items"]] == [
        (me["org_id"], "Acme", "owner")
    ]


async def test_duplicate_email_is_409_case_insensitively(client: ApiClient) -> None:
    await client.register(email="dup@example.com")
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "DUP@example.com", "password": PASSWORD, "name": "B", "org_name": "B"},
    )
    assert response.status_code == 409
    assert response.json() == problem(409, "Email already registered")


async def test_a_taken_email_costs_the_same_hashing_as_a_sign_up(
    app_factory: Callable[..., FastAPI],
) -> None:
    """Timing the 409 for a taken e-mail against a sign-up tells who has an account unless
    both hash the password."""
    app = app_factory(password_hash_memory_kib=19 * 1024, password_hash_time_cost=2)  # OWASP

    async def seconds(http: httpx.AsyncClient, email: str, expected: int) -> float:
        body = {"email": email, "password": PASSWORD, "name": "T", "org_name": "T"}
        started = time.perf_counter()
        response = await http.post("/api/v1/auth/register", json=body)
        assert response.status_code == expected, response.text
        return time.perf_counter() - started

    async with client_for(app) as http:
        await ApiClient(http).register(email="taken@example.com")
        taken = [await seconds(http, "taken@example.com", 409) for _ in range(5)]
        fresh = [await seconds(http, f"new{i}@example.com", 201) for i in range(5)]
    assert statistics.median(taken) > 0.3 * statistics.median(fresh)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1!", "at least 10 characters"),
        ("123456789", "at least 10 characters"),
        ("1234567890", "too common"),
        ("Password123", "too common"),
        ("qwertyuiop", "too common"),
        # repeated, blank, and the account's own e-mail
        ("bbbbbbbbbb", "too easy to guess"),
        (" " * 10, "only whitespace"),
        ("\t\t\t\t\t     \n", "only whitespace"),
        ("victim@example.com", "must not contain your e-mail address"),
    ],
)
async def test_weak_password_is_422_with_the_reason_and_not_echoed(
    client: ApiClient, password: str, reason: str
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "victim@example.com", "password": password, "name": "V", "org_name": "V"},
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["location"], error["pointer"]) == ("body", "#/password")
    assert reason in error["detail"]
    assert password not in response.text


async def test_login_returns_a_new_pair_and_a_new_sid_each_time(client: ApiClient) -> None:
    account = await client.register()
    first = await client.login(account)
    second = await client.login(account)
    sids = {account.claims["sid"], first.claims["sid"], second.claims["sid"]}
    assert len(sids) == 3
    refresh_claims = jwt.decode(second.refresh_token, options={"verify_signature": False})
    assert refresh_claims["sid"] == second.claims["sid"]
    assert refresh_claims["typ"] == "refresh"


async def test_wrong_password_and_unknown_email_get_the_same_401(client: ApiClient) -> None:
    account = await client.register()
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": "not the password!"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.content == unknown.content
    assert wrong.json() == problem(401, "Invalid email or password")


async def test_login_into_a_chosen_org_and_refusal_for_non_members(client: ApiClient) -> None:
    owner = await client.register(org_name="First")
    other = await client.register(org_name="Second")
    editor = await client.member(other, "editor")
    assert editor.org_id == other.org_id
    assert editor.claims["role"] == "editor"
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": editor.email, "password": editor.password, "org_id": owner.org_id},
    )
    assert response.status_code == 403


async def test_refresh_rotates_and_the_new_pair_works(client: ApiClient) -> None:
    account = await client.register()
    response = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["refresh_token"] != account.refresh_token
    assert body["access_token"] != account.access_token
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    again = await client.post("/api/v1/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert again.status_code == 200


async def test_rotation_never_extends_the_7_day_absolute_expiry(client: ApiClient) -> None:
    account = await client.register()
    original = jwt.decode(account.refresh_token, options={"verify_signature": False})
    assert original["exp"] - original["iat"] == 7 * 24 * 3600
    token = account.refresh_token
    for _ in range(2):
        await asyncio.sleep(1.05)  # iat moves on; exp must not
        response = await client.post("/api/v1/auth/refresh", json={"refresh_token": token})
        token = response.json()["refresh_token"]
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["exp"] == original["exp"]
        assert claims["iat"] > original["iat"]


async def test_reused_refresh_token_revokes_the_whole_session(client: ApiClient) -> None:
    account = await client.register()
    other_login = await client.login(account)  # another session of the same user
    first = (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    ).json()
    second = (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()

    replay = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
    )
    assert replay.status_code == 401

    # every token descended from that login is dead: the latest refresh token and every
    # access token carrying its sid
    latest = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert latest.status_code == 401
    for access in (account.access_token, first["access_token"], second["access_token"]):
        me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {access}"})
        assert me.status_code == 401
    # the user's other session is untouched
    assert (await client.get("/api/v1/users/me", headers=other_login.headers)).status_code == 200


async def test_concurrent_use_of_one_refresh_token_lets_at_most_one_through(
    client: ApiClient,
) -> None:
    account = await client.register()
    responses = await asyncio.gather(
        *(
            client.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
            for _ in range(4)
        )
    )
    assert sorted(r.status_code for r in responses).count(200) <= 1


async def test_two_tabs_refreshing_at_once_get_the_same_pair_and_stay_signed_in(
    app_factory: Callable[..., FastAPI],
) -> None:
    """Two tabs refresh with the same token at once: neither is taken for a thief, both get
    the same new pair, and the session stays signed in."""
    async with client_for(app_factory(refresh_reuse_grace_seconds=5)) as http:
        client = ApiClient(http)
        account = await client.register()
        body = {"refresh_token": account.refresh_token}
        tabs = await asyncio.gather(
            *(http.post("/api/v1/auth/refresh", json=body) for _ in range(4))
        )
        assert [r.status_code for r in tabs] == [200] * 4
        assert len({r.content for r in tabs}) == 1  # the very same pair
        pair = tabs[0].json()
        headers = {"Authorization": f"Bearer {pair['access_token']}"}
        assert (await http.get("/api/v1/users/me", headers=headers)).status_code == 200
        # a tab that comes back a moment later still gets that pair
        late = await http.post("/api/v1/auth/refresh", json=body)
        assert late.status_code == 200
        assert late.json() == pair
        after = await http.post(
            "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
        )
        assert after.status_code == 200


@pytest.mark.parametrize("reuse", ["after the grace window", "after the new pair was used"])
async def test_any_other_reuse_revokes_the_session(
    app_factory: Callable[..., FastAPI], reuse: str
) -> None:
    waits = reuse == "after the grace window"
    async with client_for(app_factory(refresh_reuse_grace_seconds=0.5 if waits else 5)) as http:
        account = await ApiClient(http).register()
        body = {"refresh_token": account.refresh_token}
        latest = (await http.post("/api/v1/auth/refresh", json=body)).json()
        if waits:
            await asyncio.sleep(0.6)
        else:
            used = {"refresh_token": latest["refresh_token"]}
            latest = (await http.post("/api/v1/auth/refresh", json=used)).json()
        assert (await http.post("/api/v1/auth/refresh", json=body)).status_code == 401
        headers = {"Authorization": f"Bearer {latest['access_token']}"}
        assert (await http.get("/api/v1/users/me", headers=headers)).status_code == 401
        newest = {"refresh_token": latest["refresh_token"]}
        assert (await http.post("/api/v1/auth/refresh", json=newest)).status_code == 401


def test_the_grace_window_is_5_seconds_by_default() -> None:
    assert Settings().refresh_reuse_grace_seconds == 5.0


async def test_logout_revokes_access_and_refresh_tokens_at_once(client: ApiClient) -> None:
    account = await client.register()
    other = await client.login(account)
    response = await client.post("/api/v1/auth/logout", headers=account.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get("/api/v1/users/me", headers=account.headers)).status_code == 401
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
    )
    assert refresh.status_code == 401
    assert (await client.get("/api/v1/users/me", headers=other.headers)).status_code == 200


async def test_logout_needs_a_token(client: ApiClient) -> None:
    response = await client.post("/api/v1/auth/logout")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == problem(401, "Not authenticated")
