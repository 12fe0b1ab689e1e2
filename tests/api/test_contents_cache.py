"""``GET /contents`` from the organisation cache: served while the organisation's version in
Redis holds, which every write of an item bumps, the pipeline's (through its repositories,
not the API) included; without Redis every page is read from the database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fastapi import FastAPI

from autoclip_api.contents.service import content_service
from autoclip_core.schemas import SourceItem
from autoclip_core.states import ContentState
from resources.app_database import AppDatabase
from tests.api.conftest import client_for
from tests.api.helpers import Account, ApiClient

pytestmark = pytest.mark.anyio

CONTENTS = "/api/v1/contents"


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """The pages read from the database (their filter, cursor and limit)."""
    read: list[tuple[Any, ...]] = []
    list_json = content_service._list_json

    def counted(*args: Any) -> bytes:
        read.append(args[2:])
        return list_json(*args)

    monkeypatch.setattr(content_service, "_list_json", counted)
    return read


def story(project: dict[str, Any], n: int) -> SourceItem:
    return SourceItem(
        id=f"{project['slug']}-{n}",
        project=project["slug"],
        source="feed",
        url=f"https://example.com/{n}",
        title=f"Harbour story {n}",
        text=f"The harbour story number {n}.",
    )


async def page(client: ApiClient, account: Account, **params: Any) -> dict[str, Any]:
    response = await client.get(CONTENTS, params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def states(client: ApiClient, account: Account, **params: Any) -> dict[str, str]:
    return {i["id"]: i["state"] for i in (await page(client, account, **params))["items"]}


async def test_a_pipeline_write_shows_in_the_next_list(
    client: ApiClient, pg_url: str, redis_url: str, loads: list[tuple[Any, ...]]
) -> None:
    pipeline = AppDatabase(url=pg_url, redis_url=redis_url)
    owner = await client.register()
    project = await client.project(owner)
    item_id = story(project, 1).id
    pipeline.content.register_new_items([story(project, 1)])
    assert await states(client, owner) == {item_id: "draft"}
    assert await states(client, owner, state="processing") == {}
    assert await states(client, owner) == {item_id: "draft"}
    assert len(loads) == 2  # the repeated page came from the cache

    pipeline.content.set_state(item_id, ContentState.PROCESSING)
    assert await states(client, owner) == {item_id: "processing"}
    assert await states(client, owner, state="processing") == {item_id: "processing"}

    pipeline.content.update_content(item_id, language="ko")
    [item] = (await page(client, owner))["items"]
    assert item["language"] == "ko"
    assert len(loads) == 5


async def test_an_api_write_shows_in_the_next_list(client: ApiClient, pg_url: str) -> None:
    owner = await client.register()
    project = await client.project(owner)
    AppDatabase(url=pg_url).content.register_new_items([story(project, 1)])
    assert [i["title"] for i in (await page(client, owner))["items"]] == ["Harbour story 1"]
    edited = await client.patch(
        f"{CONTENTS}/{story(project, 1).id}", json={"title": "Ferries"}, headers=owner.headers
    )
    assert edited.status_code == 200, edited.text
    assert [i["title"] for i in (await page(client, owner))["items"]] == ["Ferries"]


async def test_every_query_parameter_keys_its_own_page(
    client: ApiClient, pg_url: str, loads: list[tuple[Any, ...]]
) -> None:
    owner = await client.register()
    project = await client.project(owner)
    other = await client.project(owner, "Other")
    pipeline = AppDatabase(url=pg_url)
    pipeline.content.register_new_items([story(project, 1), story(project, 2), story(other, 3)])
    pipeline.content.set_state(story(project, 2).id, ContentState.PROCESSING)
    pipeline.content.update_content(story(project, 1).id, language="ko")

    async def ids(**params: Any) -> list[str]:
        return [i["id"] for i in (await page(client, owner, **params))["items"]]

    everything = await ids()
    assert sorted(everything) == sorted(
        story(p, n).id for p, n in [(project, 1), (project, 2), (other, 3)]
    )
    first = await page(client, owner, limit=1)
    queries: list[tuple[dict[str, Any], list[str]]] = [
        ({"project_id": project["id"]}, [story(project, 2).id, story(project, 1).id]),
        ({"state": "processing"}, [story(project, 2).id]),
        ({"language": "ko"}, [story(project, 1).id]),
        ({"q": "story 3"}, [story(other, 3).id]),
        ({"limit": 2}, everything[:2]),
        ({"limit": 1, "cursor": first["next_cursor"]}, everything[1:2]),
    ]
    for _ in range(2):  # the second round is served from the cache
        for params, expected in queries:
            assert await ids(**params) == expected, params
    assert len(loads) == 2 + len(queries)


@pytest.fixture
async def without_redis(app_factory: Callable[..., FastAPI]) -> AsyncIterator[ApiClient]:
    async with client_for(app_factory(redis_url=None)) as http:
        yield ApiClient(http)


async def test_without_redis_every_page_is_read_from_the_database(
    without_redis: ApiClient, pg_url: str, loads: list[tuple[Any, ...]]
) -> None:
    pipeline = AppDatabase(url=pg_url)
    owner = await without_redis.register()
    project = await without_redis.project(owner)
    pipeline.content.register_new_items([story(project, 1)])
    for _ in range(3):
        assert await states(without_redis, owner) == {story(project, 1).id: "draft"}
    assert len(loads) == 3
    pipeline.content.set_state(story(project, 1).id, ContentState.PROCESSING)
    assert await states(without_redis, owner) == {story(project, 1).id: "processing"}
