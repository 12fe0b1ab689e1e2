"""Rate limits (Redis-backed), and what happens when Redis is configured but down."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest
from fastapi import FastAPI

from tests.api.conftest import client_for, outbox_of
from tests.api.helpers import ApiClient, problem

pytestmark = pytest.mark.anyio


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _assert_retry_after(response_headers: dict[str, str], at_most: int) -> int:
    value = response_headers["retry-after"]
    assert value.isdigit(), value
    assert 1 <= int(value) <= at_most
    return int(value)


async def test_an_address_failing_for_an_account_waits_longer_and_longer(
    client: ApiClient,
) -> None:
    account = await client.register()
    wrong = {"email": account.email, "password": "wrong password!!"}
    for _ in range(5):
        assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401
    sixth = await client.post("/api/v1/auth/login", json=wrong)
    assert sixth.status_code == 429
    assert _assert_retry_after(dict(sixth.headers), 1) == 1
    assert sixth.json() == problem(
        429, "Too many failed sign-in attempts from your address; try again later"
    )
    # the right password waits too, from this address: guessing it would be free otherwise
    right = {"email": account.email, "password": account.password}
    assert (await client.post("/api/v1/auth/login", json=right)).status_code == 429
    await asyncio.sleep(1.05)
    assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401
    seventh = await client.post("/api/v1/auth/login", json=wrong)
    assert seventh.status_code == 429
    assert _assert_retry_after(dict(seventh.headers), 2) == 2  # twice as long as before


async def test_another_address_signs_in_while_one_is_throttled(
    app_factory: Callable[..., FastAPI],
) -> None:
    first, second = app_factory(), app_factory()  # two API replicas sharing Redis
    async with client_for(first, ip="192.0.2.1") as http:
        account = await ApiClient(http).register()
        wrong = {"email": account.email, "password": "nope nope nope"}
        for _ in range(5):
            await http.post("/api/v1/auth/login", json=wrong)
    # the back-off is shared through Redis: the same address is slowed on every replica...
    async with client_for(second, ip="192.0.2.1") as http:
        assert (await http.post("/api/v1/auth/login", json=wrong)).status_code == 429
    # ...and only that address
    async with client_for(second, ip="192.0.2.2") as http:
        right = {"email": account.email, "password": account.password}
        assert (await http.post("/api/v1/auth/login", json=right)).status_code == 200


async def test_unknown_accounts_are_throttled_like_known_ones(client: ApiClient) -> None:
    wrong = {"email": "ghost@example.com", "password": "whatever123"}
    statuses = [(await client.post("/api/v1/auth/login", json=wrong)).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]


async def test_successful_login_resets_the_failure_count(client: ApiClient) -> None:
    account = await client.register()
    wrong = {"email": account.email, "password": "wrong password!!"}
    for _ in range(4):
        await client.post("/api/v1/auth/login", json=wrong)
    await client.login(account)
    for _ in range(5):
        assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401


async def test_an_address_failing_across_many_accounts_is_throttled(
    app_factory: Callable[..., FastAPI],
) -> None:
    """Password spraying: one guess per account, from one address."""
    app = app_factory()
    async with client_for(app, ip="198.51.100.9") as http:
        statuses = [
            (
                await http.post(
                    "/api/v1/auth/login",
                    json={"email": f"user{i}@example.com", "password": "Summer2024!!"},
                )
            ).status_code
            for i in range(21)
        ]
    assert statuses == [401] * 20 + [429]
    async with client_for(app, ip="198.51.100.10") as http:
        response = await http.post(
            "/api/v1/auth/login", json={"email": "user0@example.com", "password": "Summer2024!!"}
        )
        assert response.status_code == 401


async def test_failures_from_everywhere_alert_and_notify_the_owner_without_locking_them_out(
    app_factory: Callable[..., FastAPI], caplog: pytest.LogCaptureFixture
) -> None:
    app = app_factory()
    async with client_for(app) as http:
        account = await ApiClient(http).register()
    wrong = {"email": account.email, "password": "wrong password!!"}
    for i in range(7):  # a botnet: one guess per address
        async with client_for(app, ip=f"203.0.113.{i}") as http:
            assert (await http.post("/api/v1/auth/login", json=wrong)).status_code == 401
    outbox = outbox_of(app)
    notice = outbox.wait_for(account.email, "notice:login.repeated_failures")
    assert "5 failed attempts to sign in to your account within the last 15" in notice["text"]
    app.state.api.mailer.flush()  # everything queued is delivered: one notice per window
    assert len(outbox.messages(account.email, "notice:login.repeated_failures")) == 1
    alerts = [
        r for r in caplog.records if "security_event=login.repeated_failures" in r.getMessage()
    ]
    assert [r.levelname for r in alerts] == ["WARNING"]
    async with client_for(app, ip="203.0.113.200") as http:
        await ApiClient(http).login(account)  # a signal, not a wall


async def test_credential_endpoints_are_limited_per_ip(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory(auth_rate_limit_per_minute=3)
    async with client_for(app, ip="192.0.2.7") as http:
        body = {"email": "x@example.com", "password": "whatever123"}
        statuses = [
            (await http.post("/api/v1/auth/login", json=body)).status_code for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        refresh = await http.post("/api/v1/auth/refresh", json={"refresh_token": "x.y.z"})
        assert refresh.status_code == 429
        _assert_retry_after(dict(refresh.headers), 60)
    async with client_for(app, ip="192.0.2.8") as http:  # another address is not affected
        response = await http.post("/api/v1/auth/login", json=body)
        assert response.status_code == 401


async def test_general_per_user_limit_covers_the_whole_api(
    app_factory: Callable[..., FastAPI],
) -> None:
    app = app_factory(api_rate_limit_per_minute=5)
    async with client_for(app) as http:
        client = ApiClient(http)
        account = await client.register()
        other = await client.register()
        paths = ["/api/v1/users/me", "/api/v1/projects", "/api/v1/orgs", "/api/v1/projects"]
        for path in [*paths, "/api/v1/users/me"]:
            assert (await http.get(path, headers=account.headers)).status_code == 200
        limited = await http.get("/api/v1/orgs", headers=account.headers)
        assert limited.status_code == 429
        _assert_retry_after(dict(limited.headers), 60)
        assert limited.json() == problem(429, "Rate limit exceeded")
        # per user: someone else is not limited
        assert (await http.get("/api/v1/users/me", headers=other.headers)).status_code == 200


async def test_redis_down_login_and_refresh_fail_closed_reads_keep_working(
    app_factory: Callable[..., FastAPI],
) -> None:
    healthy = app_factory()
    async with client_for(healthy) as http:
        account = await ApiClient(http).register()
        await ApiClient(http).project(account)
    broken = app_factory(redis_url=f"redis://127.0.0.1:{_closed_port()}/0")
    async with client_for(broken) as http:
        login = await http.post(
            "/api/v1/auth/login", json={"email": account.email, "password": account.password}
        )
        assert login.status_code == 503
        assert login.json() == problem(503, "Sign-in is temporarily unavailable")
        assert login.headers["retry-after"].isdigit()
        refresh = await http.post(
            "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
        )
        assert refresh.status_code == 503
        register = await http.post(
            "/api/v1/auth/register",
            json={"email": "n@example.com", "password": "a fine password", "name": "N",
                  "org_name": "N"},
        )  # fmt: skip
        assert register.status_code == 503
        # reads with a valid token keep working (the general limit fails open)
        for path in ("/api/v1/projects", "/api/v1/users/me", "/api/v1/orgs"):
            assert (await http.get(path, headers=account.headers)).status_code == 200
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["database"]["status"] == "ok"
        assert body["checks"]["redis"]["status"] == "error"
        assert "unreachable" in body["checks"]["redis"]["detail"]
        assert (await http.get("/healthz")).status_code == 200
    # the refresh token was not consumed by the failed attempt
    async with client_for(healthy) as http:
        refreshed = await http.post(
            "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
        )
        assert refreshed.status_code == 200
