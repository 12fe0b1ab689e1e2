"""Projects: CRUD, validation, pagination."""

from __future__ import annotations

import pytest

from tests.api.helpers import ApiClient, problem

pytestmark = pytest.mark.anyio


async def test_create_read_update_delete(client: ApiClient) -> None:
    owner = await client.register()
    created = await client.post(
        "/api/v1/projects",
        json={
            "name": "서울 뉴스 Daily",
            "description": "Top stories\nevery morning",
            "language": "ko",
            "timezone": "Asia/Seoul",
            "review_required": True,
            "auto_generate": True,
        },
        headers=owner.headers,
    )
    assert created.status_code == 201
    project = created.json()
    assert project["org_id"] == owner.org_id
    assert project["name"] == "서울 뉴스 Daily"
    assert project["language"] == "ko"
    assert project["timezone"] == "Asia/Seoul"
    assert project["review_required"] is True
    assert project["auto_generate"] is True
    assert project["slug"].startswith("daily-")
    assert project["updated_at"] is None
    assert project["created_at"].endswith("Z") or project["created_at"].endswith("+00:00")

    url = f"/api/v1/projects/{project['id']}"
    assert (await client.get(url, headers=owner.headers)).json() == project

    patched = await client.patch(
        url,
        json={"description": None, "review_required": False, "auto_generate": False},
        headers=owner.headers,
    )
    assert patched.status_code == 200
    assert patched.json()["auto_generate"] is False
    assert patched.json()["description"] is None
    assert patched.json()["review_required"] is False
    assert patched.json()["name"] == "서울 뉴스 Daily"
    assert patched.json()["updated_at"] is not None

    assert (await client.delete(url, headers=owner.headers)).status_code == 204
    assert (await client.get(url, headers=owner.headers)).status_code == 404
    assert (await client.delete(url, headers=owner.headers)).status_code == 404


async def test_defaults(client: ApiClient) -> None:
    owner = await client.register()
    project = await client.project(owner, "Plain")
    assert project["timezone"] == "UTC"
    assert project["review_required"] is False
    assert project["auto_generate"] is False  # new items wait for the daily batch
    assert project["language"] is None
    assert project["description"] is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 201},
        {"name": "tab\there"},
        {"name": "ok", "timezone": "Mars/Olympus"},
        {"name": "ok", "timezone": "../../etc/passwd"},
        {"name": "ok", "language": "english please"},
        {"name": "ok", "description": "x" * 5001},
        {"name": "ok", "description": "nul \x00 byte"},
        {"name": "ok", "review_required": "maybe"},
        {"name": "ok", "org_id": "f" * 32},
        {"name": "ok", "slug": "mine"},
    ],
)
async def test_invalid_bodies_are_422(client: ApiClient, body: dict[str, object]) -> None:
    owner = await client.register()
    response = await client.post("/api/v1/projects", json=body, headers=owner.headers)
    assert response.status_code == 422


@pytest.mark.parametrize(
    "body", [{"name": None}, {"timezone": None}, {"review_required": None}, {"auto_generate": None}]
)
async def test_patch_cannot_null_required_fields(
    client: ApiClient, body: dict[str, object]
) -> None:
    owner = await client.register()
    project = await client.project(owner)
    response = await client.patch(
        f"/api/v1/projects/{project['id']}", json=body, headers=owner.headers
    )
    assert response.status_code == 422


async def test_list_is_ordered_and_paginated(client: ApiClient) -> None:
    owner = await client.register()
    ids = [(await client.project(owner, f"P{i}"))["id"] for i in range(5)]
    page = (await client.get("/api/v1/projects?limit=2&offset=1", headers=owner.headers)).json()
    assert [p["id"] for p in page["items"]] == ids[1:3]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    beyond = (await client.get("/api/v1/projects?offset=10", headers=owner.headers)).json()
    assert (beyond["items"], beyond["total"]) == ([], 5)
    everything = (await client.get("/api/v1/projects", headers=owner.headers)).json()
    assert [p["id"] for p in everything["items"]] == ids
    assert everything["limit"] == 100
    for query in ("limit=0", "limit=501", "offset=-1", "limit=abc"):
        response = await client.get(f"/api/v1/projects?{query}", headers=owner.headers)
        assert response.status_code == 422, query


async def test_malformed_ids_are_404(client: ApiClient) -> None:
    owner = await client.register()
    for project_id in ("nope", "0" * 31, "Z" * 32, "%00"):
        response = await client.get(f"/api/v1/projects/{project_id}", headers=owner.headers)
        assert response.status_code == 404
        assert response.json() == problem(404, "Project not found")


async def test_slugs_are_unique_across_orgs_for_the_same_name(client: ApiClient) -> None:
    alice = await client.register()
    bob = await client.register()
    a = await client.project(alice, "News")
    b = await client.project(bob, "News")
    assert a["slug"] != b["slug"]
