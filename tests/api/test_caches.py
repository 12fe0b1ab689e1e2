"""The caches of the authenticated path: a change is seen by the very next request, in every
API process (two apps sharing PostgreSQL and Redis stand for two workers or replicas).

``reader`` serves the requests that fill its caches; ``writer`` makes the change; the next
request on ``reader`` must see it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fastapi import FastAPI

from autoclip_api.auth.sessions import session_service
from autoclip_api.projects.schemas import ProjectList
from autoclip_api.projects.service import project_service
from tests.api.conftest import client_for, outbox_of
from tests.api.helpers import Account, ApiClient

pytestmark = pytest.mark.anyio

PROJECTS = "/api/v1/projects"


@pytest.fixture
async def reader(app_factory: Callable[..., FastAPI]) -> AsyncIterator[ApiClient]:
    async with client_for(app_factory()) as http:
        yield ApiClient(http)


@pytest.fixture
async def writer(app_factory: Callable[..., FastAPI]) -> AsyncIterator[ApiClient]:
    app = app_factory()
    async with client_for(app) as http:
        yield ApiClient(http, outbox_of(app))


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the session state and the project lists were read from the database."""
    counts = {"session": 0, "projects": 0}
    session_context, list_page = session_service._session_context, project_service.list

    def counted_session_context(*args: Any) -> Any:
        counts["session"] += 1
        return session_context(*args)

    def counted_list(*args: Any, **kwargs: Any) -> Any:
        counts["projects"] += 1
        return list_page(*args, **kwargs)

    monkeypatch.setattr(session_service, "_session_context", counted_session_context)
    monkeypatch.setattr(project_service, "list", counted_list)
    return counts


async def _names(client: ApiClient, account: Account) -> list[str]:
    response = await client.get(PROJECTS, headers=account.headers)
    assert response.status_code == 200, response.text
    return [p["name"] for p in response.json()["items"]]


async def test_repeated_reads_come_from_the_caches(
    client: ApiClient, loads: dict[str, int]
) -> None:
    owner = await client.register()
    await client.project(owner, "one")
    before = dict(loads)
    for _ in range(5):
        assert await _names(client, owner) == ["one"]
    assert loads["projects"] - before["projects"] == 1
    assert loads["session"] - before["session"] <= 1


async def test_cached_list_is_the_models_json(client: ApiClient) -> None:
    owner = await client.register()
    await client.project(owner, 'Café ☕ "quoted"')
    first = await client.get(PROJECTS, headers=owner.headers)
    second = await client.get(PROJECTS, headers=owner.headers)  # from the cache
    assert first.content == second.content
    assert second.headers["content-type"] == "application/json"
    assert second.headers["cache-control"] == "no-store"
    page = ProjectList.model_validate_json(second.content)
    assert second.json() == page.model_dump(mode="json")
    assert page.items[0].name == 'Café ☕ "quoted"'
    paged = await client.get(PROJECTS, params={"limit": 1, "offset": 1}, headers=owner.headers)
    assert paged.json() == {"items": [], "total": 1, "limit": 1, "offset": 1}


async def test_project_writes_show_in_the_next_list_of_every_process(
    reader: ApiClient, writer: ApiClient, loads: dict[str, int]
) -> None:
    owner = await writer.register()
    assert await _names(reader, owner) == []
    created = await writer.project(owner, "first")
    assert await _names(reader, owner) == ["first"]
    url = f"{PROJECTS}/{created['id']}"
    patched = await writer.patch(url, json={"name": "renamed"}, headers=owner.headers)
    assert patched.status_code == 200
    assert await _names(reader, owner) == ["renamed"]
    assert (await writer.delete(url, headers=owner.headers)).status_code == 204
    assert await _names(reader, owner) == []
    assert loads["projects"] == 4  # every list after a write was read afresh


async def test_one_organisations_writes_leave_anothers_cache(
    client: ApiClient, loads: dict[str, int]
) -> None:
    alice, bob = await client.register(), await client.register()
    await client.project(alice, "alice's")
    assert await _names(client, alice) == ["alice's"]
    assert await _names(client, bob) == []
    before = loads["projects"]
    await client.project(bob, "bob's")
    assert await _names(client, alice) == ["alice's"]  # still cached
    assert await _names(client, bob) == ["bob's"]
    assert loads["projects"] - before == 1


async def test_role_change_applies_to_the_next_request_in_every_process(
    reader: ApiClient, writer: ApiClient
) -> None:
    owner = await writer.register()
    member = await writer.member(owner, "viewer")
    create = {"name": "by the member"}
    assert (await reader.post(PROJECTS, json=create, headers=member.headers)).status_code == 403
    assert (await reader.get("/api/v1/users/me", headers=member.headers)).json()["role"] == (
        "viewer"
    )
    members = f"/api/v1/orgs/{owner.org_id}/members/{member.user_id}"
    await writer.patch(members, json={"role": "admin"}, headers=owner.headers)
    assert (await reader.post(PROJECTS, json=create, headers=member.headers)).status_code == 201
    await writer.patch(members, json={"role": "viewer"}, headers=owner.headers)
    assert (await reader.post(PROJECTS, json=create, headers=member.headers)).status_code == 403
    assert (await reader.get(PROJECTS, headers=member.headers)).status_code == 200


async def test_member_removal_ends_the_cached_session_at_once(
    reader: ApiClient, writer: ApiClient
) -> None:
    owner = await writer.register()
    member = await writer.member(owner, "editor")
    assert (await reader.get(PROJECTS, headers=member.headers)).status_code == 200
    members = f"/api/v1/orgs/{owner.org_id}/members/{member.user_id}"
    assert (await writer.delete(members, headers=owner.headers)).status_code == 204
    assert (await reader.get(PROJECTS, headers=member.headers)).status_code == 401


async def test_logout_ends_the_cached_session_at_once(reader: ApiClient, writer: ApiClient) -> None:
    account = await writer.register()
    other_login = await writer.login(account)
    assert (await reader.get(PROJECTS, headers=account.headers)).status_code == 200
    assert (await reader.get(PROJECTS, headers=other_login.headers)).status_code == 200
    assert (await writer.post("/api/v1/auth/logout", headers=account.headers)).status_code == 204
    assert (await reader.get(PROJECTS, headers=account.headers)).status_code == 401
    assert (await reader.get("/api/v1/users/me", headers=account.headers)).status_code == 401
    # the user's other login is untouched
    assert (await reader.get(PROJECTS, headers=other_login.headers)).status_code == 200


async def test_refresh_token_reuse_ends_the_cached_session_at_once(
    reader: ApiClient, writer: ApiClient
) -> None:
    account = await writer.register()
    assert (await reader.get(PROJECTS, headers=account.headers)).status_code == 200
    body = {"refresh_token": account.refresh_token}
    rotated = await writer.post("/api/v1/auth/refresh", json=body)
    assert rotated.status_code == 200
    new_headers = {"Authorization": f"Bearer {rotated.json()['access_token']}"}
    assert (await reader.get(PROJECTS, headers=new_headers)).status_code == 200
    assert (await writer.post("/api/v1/auth/refresh", json=body)).status_code == 401  # reuse
    assert (await reader.get(PROJECTS, headers=account.headers)).status_code == 401
    assert (await reader.get(PROJECTS, headers=new_headers)).status_code == 401


async def test_password_change_ends_the_other_cached_sessions(
    reader: ApiClient, writer: ApiClient
) -> None:
    account = await writer.register()
    elsewhere = await writer.login(account)
    assert (await reader.get(PROJECTS, headers=elsewhere.headers)).status_code == 200
    changed = await writer.patch(
        "/api/v1/users/me",
        json={"password": "a brand new passphrase", "current_password": account.password},
        headers=account.headers,
    )
    assert changed.status_code == 200
    assert (await reader.get(PROJECTS, headers=elsewhere.headers)).status_code == 401
    assert (await reader.get(PROJECTS, headers=account.headers)).status_code == 200


async def test_deleted_user_is_refused_at_once(reader: ApiClient, writer: ApiClient) -> None:
    account = await writer.register()
    assert (await reader.get(PROJECTS, headers=account.headers)).status_code == 200
    assert (await writer.delete("/api/v1/users/me", headers=account.headers)).status_code == 204
    assert (await reader.get(PROJECTS, headers=account.headers)).status_code == 401


async def test_requests_refused_for_a_revoked_session_are_not_counted(
    app_factory: Callable[..., FastAPI],
) -> None:
    """Replaying a revoked (e.g. stolen) token cannot use up its user's rate limit."""
    async with client_for(app_factory(api_rate_limit_per_minute=3)) as http:
        client = ApiClient(http)
        account = await client.register()
        current = await client.login(account)
        await client.post("/api/v1/auth/logout", headers=account.headers)  # counted: 1 of 3
        for _ in range(5):
            assert (await http.get(PROJECTS, headers=account.headers)).status_code == 401
        statuses = [
            (await http.get(PROJECTS, headers=current.headers)).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]


async def test_redis_down_reads_come_from_the_database(
    app_factory: Callable[..., FastAPI], loads: dict[str, int]
) -> None:
    healthy = app_factory()
    async with client_for(healthy) as http:
        client = ApiClient(http)
        account = await client.register()
        await client.project(account, "kept")
    broken = app_factory(redis_url="redis://127.0.0.1:9/0")  # nothing listens on port 9
    async with client_for(broken) as http:
        client = ApiClient(http)
        before = dict(loads)
        for _ in range(3):
            assert await _names(client, account) == ["kept"]
        # no versions to check a cached answer against: each read goes to the database
        assert loads["projects"] - before["projects"] == 3
        assert loads["session"] - before["session"] == 3
