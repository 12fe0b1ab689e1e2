"""Projects: CRUD, validation, pagination."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import httpx
import pytest

from autoclip_assets.partitions import content_items
from autoclip_core.render.templates import load_template
from autoclip_core.schemas import SourceItem
from resources.app_database import AppDatabase
from schedules.daily_batch import daily_batch_schedule
from tests.api.helpers import ApiClient, problem
from tests.fakes.feeds import article_text

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


async def test_a_query_parameter_a_list_does_not_take_or_gets_twice_is_422(
    client: ApiClient,
) -> None:
    """A misspelt parameter would otherwise answer as if it were not sent, and of one given
    twice only one would count."""
    owner = await client.register()
    for path in ("/api/v1/projects", "/api/v1/templates", "/api/v1/contents"):
        response = await client.get(f"{path}?limt=2&limit=1", headers=owner.headers)
        assert pointers(response) == ["#/limt"], path
        response = await client.get(f"{path}?limit=1&limit=2", headers=owner.headers)
        assert pointers(response) == ["#/limit"], path
    for query in ("project_id=nope", "language=[]", "state=gone", "cursor=next"):
        response = await client.get(f"/api/v1/contents?{query}", headers=owner.headers)
        assert pointers(response) == [f"#/{query.split('=')[0]}"], query


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


SETTINGS = {
    "template_id": "square",
    "language": "ko",
    "voice": "ko+f3",
    "blocked_terms": ["도박", "casino"],
    "daily_batch": {"time": "07:30", "count": 2, "timezone": "Asia/Seoul"},
    "topic_weights": {"경제": 1.0, "sports": 0.25},
}


async def test_a_project_holds_all_its_settings(client: ApiClient) -> None:
    owner = await client.register()
    plain = await client.project(owner, "Plain")
    assert {k: plain[k] for k in [*SETTINGS, "channels"]} == {
        "template_id": "short", "language": None, "voice": None, "blocked_terms": [],
        "daily_batch": None, "topic_weights": {}, "channels": [],
    }  # fmt: skip
    created = await client.post(
        "/api/v1/projects", json={"name": "All", **SETTINGS}, headers=owner.headers
    )
    assert created.status_code == 201, created.text
    project = created.json()
    assert project["daily_batch"] == {**SETTINGS["daily_batch"], "lookback_hours": 24.0}
    assert {k: project[k] for k in SETTINGS if k != "daily_batch"} == {
        k: v for k, v in SETTINGS.items() if k != "daily_batch"
    }
    listed = (await client.get("/api/v1/projects", headers=owner.headers)).json()["items"]
    assert listed[-1] == project
    url = f"/api/v1/projects/{project['id']}"
    patched = await client.patch(
        url, json={"daily_batch": None, "voice": None, "template_id": "long"},
        headers=owner.headers,
    )  # fmt: skip
    assert patched.status_code == 200, patched.text
    assert (patched.json()["daily_batch"], patched.json()["voice"]) == (None, None)
    assert patched.json()["template_id"] == "long"
    assert patched.json()["topic_weights"] == SETTINGS["topic_weights"]
    assert (await client.get(url, headers=owner.headers)).json() == patched.json()


@pytest.mark.parametrize(
    "settings",
    [
        {"daily_batch": {"time": "7:30"}},
        {"daily_batch": {"time": "24:00"}},
        {"daily_batch": {"count": 0}},
        {"daily_batch": {"count": 51}},
        {"daily_batch": {"timezone": "Mars/Olympus"}},
        {"daily_batch": {"time": "09:00", "extra": 1}},
        {"template_id": "vertical"},
        {"template_id": "../short"},
        {"channels": ["../etc"]},
        {"channels": ["f" * 32]},
        {"channels": "local"},
        {"voice": "a voice; rm -rf"},
        {"voice": ""},
        {"blocked_terms": [""]},
        {"topic_weights": {"x": 1.5}},
    ],
)
async def test_invalid_settings_are_422(client: ApiClient, settings: dict[str, object]) -> None:
    owner = await client.register()
    response = await client.post(
        "/api/v1/projects", json={"name": "ok", **settings}, headers=owner.headers
    )
    assert response.status_code == 422, settings
    project = await client.project(owner)
    response = await client.patch(
        f"/api/v1/projects/{project['id']}", json=settings, headers=owner.headers
    )
    assert response.status_code == 422, settings


def pointers(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [e["pointer"] for e in response.json()["errors"]]


async def test_an_unknown_template_or_channel_is_422_naming_the_field(client: ApiClient) -> None:
    owner = await client.register()
    project = await client.project(owner)
    url = f"/api/v1/projects/{project['id']}"
    unknown = {"template_id": "0" * 32, "channels": ["1" * 32]}
    response = await client.patch(url, json=unknown, headers=owner.headers)
    assert pointers(response) == ["#/template_id", "#/channels"]
    assert "unknown template" in response.json()["errors"][0]["detail"]
    assert "1" * 32 in response.json()["errors"][1]["detail"]
    created = await client.post(
        "/api/v1/projects", json={"name": "New", "template_id": "0" * 32}, headers=owner.headers
    )
    assert pointers(created) == ["#/template_id"]
    with_channels = await client.post(
        "/api/v1/projects", json={"name": "New", "channels": ["1" * 32]}, headers=owner.headers
    )
    assert pointers(with_channels) == ["#/channels"]  # a new project has none (the schema says)
    assert (await client.get(url, headers=owner.headers)).json() == project  # nothing changed


async def test_a_project_lists_its_own_channels_by_id(client: ApiClient) -> None:
    owner = await client.register()
    project = await client.project(owner)
    other = await client.project(owner, "Other")
    url = f"/api/v1/projects/{project['id']}"
    made = []
    for name in ("Folder A", "Folder B"):
        response = await client.post(
            f"{url}/channels", json={"platform": "local", "name": name}, headers=owner.headers
        )
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])
    assert (await client.get(url, headers=owner.headers)).json()["channels"] == made
    reordered = await client.patch(url, json={"channels": made[::-1]}, headers=owner.headers)
    assert reordered.json()["channels"] == made[::-1]
    twice = await client.patch(url, json={"channels": [made[0]] * 2}, headers=owner.headers)
    assert pointers(twice) == ["#/channels"]
    foreign = await client.patch(
        f"/api/v1/projects/{other['id']}", json={"channels": made[:1]}, headers=owner.headers
    )
    assert pointers(foreign) == ["#/channels"]  # another project's channel
    none = await client.patch(url, json={"channels": []}, headers=owner.headers)
    assert (none.status_code, none.json()["channels"]) == (200, [])


async def test_a_project_renders_with_its_organisations_own_template(client: ApiClient) -> None:
    owner = await client.register()
    stranger = await client.register()
    source = load_template("square")
    own = await client.post(
        "/api/v1/templates", json={"name": "Mine", "source": source}, headers=owner.headers
    )
    theirs = await client.post(
        "/api/v1/templates", json={"name": "Theirs", "source": source}, headers=stranger.headers
    )
    partial = {**source, "elements": [e for e in source["elements"] if e["name"] != "Scene"]}
    lacking = await client.post(
        "/api/v1/templates", json={"name": "No scenes", "source": partial}, headers=owner.headers
    )
    assert {own.status_code, theirs.status_code, lacking.status_code} == {201}
    project = await client.project(owner)
    url = f"/api/v1/projects/{project['id']}"
    mine = own.json()["id"]
    response = await client.patch(url, json={"template_id": mine}, headers=owner.headers)
    assert (response.status_code, response.json()["template_id"]) == (200, mine)
    response = await client.patch(
        url, json={"template_id": theirs.json()["id"]}, headers=owner.headers
    )
    assert pointers(response) == ["#/template_id"]  # another organisation's: unknown here
    response = await client.patch(
        url, json={"template_id": lacking.json()["id"]}, headers=owner.headers
    )
    assert pointers(response) == ["#/template_id"]
    assert "Scene" in response.json()["errors"][0]["detail"]


async def test_an_api_created_project_gets_its_daily_batch_from_the_schedule(
    client: ApiClient, pg_url: str
) -> None:
    owner = await client.register()
    body = {"name": "Morning", "timezone": "Asia/Seoul", "topic_weights": {"subway": 1.0},
            "daily_batch": {"time": "09:00", "count": 2}}  # fmt: skip
    created = await client.post("/api/v1/projects", json=body, headers=owner.headers)
    assert created.status_code == 201, created.text
    slug = created.json()["slug"]
    seoul_nine = datetime(2026, 5, 4, 9, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    items = [
        SourceItem(
            id=f"{slug}-{n}",
            project=slug,
            source="feed",
            url=f"https://e.kr/{n}",
            title=f"Story {n}",
            text=article_text(n, 300) + (" subway" if n == 2 else ""),
            published_at=seoul_nine - timedelta(hours=2),
        )
        for n in range(4)
    ]
    app_db = AppDatabase(url=pg_url)  # migrated by the fixture
    app_db.content.register_new_items(items)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(content_items.name, [i.id for i in items])

        def evaluate(at: datetime) -> object:
            context = dg.build_schedule_context(
                instance=instance, scheduled_execution_time=at, resources={"app_db": app_db}
            )
            return daily_batch_schedule(context)

        requests = evaluate(seoul_nine)
        skipped = evaluate(seoul_nine - timedelta(minutes=5))
    assert isinstance(requests, list)
    assert len(requests) == 2
    assert requests[0].partition_key == f"{slug}-2"  # the weighted topic ranks first
    assert {r.tags["autoclip/project"] for r in requests} == {slug}
    assert isinstance(skipped, dg.SkipReason)
