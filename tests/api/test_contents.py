"""Content items over the API: made from a text or a URL, listed newest first with a cursor,
read with their pipeline state, edited, deleted — only within the caller's organisation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI

from autoclip_api.contents.schemas import CURSOR
from autoclip_core.db.content import ContentRepository
from autoclip_core.db.media import MediaRepository, media_file
from autoclip_core.db.models import ContentItem
from autoclip_core.fetch import ADDRESS_NOT_ALLOWED
from autoclip_core.pipeline_names import CONTENT_PARTITIONS
from autoclip_core.states import ContentState
from tests.api.contents_setup import (
    ARTICLE,
    SCRIPT,
    api,
    contents_app,
    dagster,
    new_item,
    pipeline_made,
    studio,
    submitter,
)
from tests.api.helpers import ApiClient, problem
from tests.fakes.dagster_graphql import FakeDagster
from tests.fakes.fixtures import allow_loopback, fake_server
from tests.fakes.server import FakeServer, text_reply

__all__ = ["allow_loopback", "api", "contents_app", "dagster", "fake_server"]

pytestmark = pytest.mark.anyio

PAGE = """<html><head><title>Harbour plan approved</title>
<link rel="canonical" href="{base}/news/harbour"></head>
<body><article><h1>Harbour plan approved</h1>{paragraphs}</article></body></html>"""


def errors_at(response_json: dict, pointer: str) -> list[str]:  # type: ignore[type-arg]
    return [e["detail"] for e in response_json.get("errors", []) if e["pointer"] == pointer]


async def test_an_item_made_from_text_is_a_draft_in_its_language(api: ApiClient) -> None:
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id)
    assert item["state"] == "draft"
    assert item["language"] == "en"
    assert item["title"].startswith("The city council approved")
    assert item["text"].startswith("The city council approved")
    assert item["script"] is None
    assert item["media"] == {}
    assert item["review"] == {
        "required": False, "decision": None, "by": None, "at": None, "note": None
    }  # fmt: skip
    assert {a["step"]: a["state"] for a in item["assets"]}["video"] == "not_run"
    read = await api.get(f"/api/v1/contents/{item['id']}", headers=s.owner.headers)
    assert read.json() == item


@pytest.mark.usefixtures("allow_loopback")
async def test_an_item_made_from_a_url_holds_the_extracted_article(
    api: ApiClient, fake_server: FakeServer
) -> None:
    paragraphs = "".join(f"<p>{sentence}.</p>" for sentence in ARTICLE.split(". "))
    url = fake_server.route(
        "/news/harbour",
        text_reply(PAGE.format(base=fake_server.base, paragraphs=paragraphs), "text/html"),
    )
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id, text=None, url=url)
    assert item["url"] == url
    assert item["title"] == "Harbour plan approved"
    assert "four thousand people a day" in item["text"]


async def test_a_url_the_fetch_guard_refuses_is_a_422_with_its_reason(api: ApiClient) -> None:
    s = await studio(api)
    response = await api.post(
        "/api/v1/contents",
        json={"project_id": s.project_id, "url": "http://169.254.169.254/latest/meta-data/"},
        headers=s.owner.headers,
    )
    assert response.status_code == 422
    [reason] = errors_at(response.json(), "#/url")
    assert reason == f"article not fetched: {ADDRESS_NOT_ALLOWED}: 169.254.169.254"


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"template_id": "tall"}, "#/template_id"),
        ({"channels": ["0123456789abcdef0123456789abcdef"]}, "#/channels"),
        ({"project_id": "0123456789abcdef0123456789abcdef"}, "#/project_id"),
    ],
)
async def test_unknown_references_are_a_422_naming_the_field(
    api: ApiClient, fields: dict[str, object], pointer: str
) -> None:
    s = await studio(api)
    response = await api.post(
        "/api/v1/contents",
        json={"project_id": s.project_id, "text": ARTICLE, **fields},
        headers=s.owner.headers,
    )
    assert response.status_code == 422, response.text
    assert errors_at(response.json(), pointer)


async def test_text_or_url_is_required_but_not_both(api: ApiClient) -> None:
    s = await studio(api)
    for body in ({}, {"text": ARTICLE, "url": "https://example.com/a"}, {"text": None}):
        response = await api.post(
            "/api/v1/contents", json={"project_id": s.project_id, **body}, headers=s.owner.headers
        )
        assert response.status_code == 422
        assert "give either text or url" in response.text


async def test_another_organisations_project_and_items_are_invisible(api: ApiClient) -> None:
    mine, theirs = await studio(api), await studio(api)
    their_item = await new_item(api, theirs.owner, theirs.project_id)
    refused = await api.post(
        "/api/v1/contents",
        json={"project_id": theirs.project_id, "text": ARTICLE},
        headers=mine.owner.headers,
    )
    assert errors_at(refused.json(), "#/project_id") == ["no such project"]
    base = f"/api/v1/contents/{their_item['id']}"
    missing = "/api/v1/contents/0123456789abcdef0123456789abcdef"
    for method, suffix in [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/jobs"),
                           ("GET", "/uploads"), ("POST", "/generate")]:  # fmt: skip
        body = {"title": "Mine now"} if method == "PATCH" else None
        for path in (base, missing):
            response = await api.request(
                method, path + suffix, json=body, headers=mine.owner.headers
            )
            assert response.status_code == 404, (method, path + suffix)
            assert response.json() == problem(404, "Content item not found")
    listed = await api.get("/api/v1/contents", headers=mine.owner.headers)
    assert listed.json() == {"items": [], "next_cursor": None}


async def test_the_list_is_newest_first_in_pages_and_filtered(
    api: ApiClient, contents_app: FastAPI
) -> None:
    s = await studio(api)
    made = [await new_item(api, s.owner, s.project_id, title=f"Story {n}") for n in range(5)]
    pages, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/api/v1/contents", params=params, headers=s.owner.headers)).json()
        pages.append([i["title"] for i in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [["Story 4", "Story 3"], ["Story 2", "Story 1"], ["Story 0"]]

    pipeline_made(contents_app, made[1]["id"])
    ready = await api.get("/api/v1/contents", params={"state": "ready"}, headers=s.owner.headers)
    assert [i["id"] for i in ready.json()["items"]] == [made[1]["id"]]
    found = await api.get("/api/v1/contents", params={"q": "story 3"}, headers=s.owner.headers)
    assert [i["title"] for i in found.json()["items"]] == ["Story 3"]
    percent = await api.get("/api/v1/contents", params={"q": "%"}, headers=s.owner.headers)
    assert percent.json()["items"] == []
    other = await studio(api)
    await new_item(api, other.owner, other.project_id)
    by_project = await api.get(
        "/api/v1/contents", params={"project_id": s.project_id, "language": "en"},
        headers=s.owner.headers,
    )  # fmt: skip
    assert len(by_project.json()["items"]) == 5
    bad = await api.get("/api/v1/contents", params={"cursor": "nope"}, headers=s.owner.headers)
    assert bad.status_code == 422
    assert errors_at(bad.json(), "#/cursor")


async def test_every_cursor_of_the_stated_form_is_a_place_in_the_list(api: ApiClient) -> None:
    """The schema's pattern is the whole rule: a cursor no page gave still names a place."""
    s = await studio(api)
    for n in range(2):
        await new_item(api, s.owner, s.project_id, title=f"Story {n}")
    first = await api.get("/api/v1/contents", params={"limit": 1}, headers=s.owner.headers)
    after_newest = first.json()["next_cursor"]
    assert re.fullmatch(CURSOR, after_newest)
    expected = {
        after_newest: ["Story 0"],
        "0-a": [],  # after the first microsecond of 1970: nothing is older
        "99999999999999999-z": ["Story 1", "Story 0"],  # after the year 5000: everything
    }
    for cursor, titles in expected.items():
        page = await api.get("/api/v1/contents", params={"cursor": cursor}, headers=s.owner.headers)
        assert page.status_code == 200, (cursor, page.text)
        assert [i["title"] for i in page.json()["items"]] == titles, cursor


async def test_a_viewer_reads_but_cannot_make_items(api: ApiClient) -> None:
    s = await studio(api)
    viewer = await api.member(s.owner, "viewer")
    item = await new_item(api, s.owner, s.project_id)
    assert (await api.get(f"/api/v1/contents/{item['id']}", headers=viewer.headers)).is_success
    refused = await api.post(
        "/api/v1/contents",
        json={"project_id": s.project_id, "text": ARTICLE},
        headers=viewer.headers,
    )
    assert refused.status_code == 403


async def test_editing_title_template_and_channels(api: ApiClient) -> None:
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id)
    path = f"/api/v1/contents/{item['id']}"
    edited = await api.patch(
        path,
        json={"title": "Ferries are coming", "template_id": "square",
              "channels": [s.channel["id"]]},
        headers=s.owner.headers,
    )  # fmt: skip
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["title"], body["template_id"], body["channels"]) == (
        "Ferries are coming", "square", [s.channel["id"]]
    )  # fmt: skip
    back = await api.patch(
        path, json={"template_id": None, "channels": None}, headers=s.owner.headers
    )
    assert (back.json()["template_id"], back.json()["channels"]) == (None, None)
    refused = await api.patch(path, json={"template_id": "tall"}, headers=s.owner.headers)
    assert errors_at(refused.json(), "#/template_id")
    no_title = await api.patch(path, json={"title": None}, headers=s.owner.headers)
    assert no_title.status_code == 422


async def test_a_script_can_be_edited_once_the_pipeline_wrote_one(
    api: ApiClient, contents_app: FastAPI
) -> None:
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id)
    path = f"/api/v1/contents/{item['id']}"
    edit = {
        "title": "Harbour: what changes",
        "hook": SCRIPT.hook,
        "scenes": [
            {"narration": scene.narration, "on_screen_text": f"New: {scene.on_screen_text}"}
            for scene in SCRIPT.scenes
        ],
        "call_to_action": SCRIPT.call_to_action,
    }
    early = await api.patch(path, json={"script": edit}, headers=s.owner.headers)
    assert early.status_code == 409
    assert "no script yet" in early.json()["detail"]

    pipeline_made(contents_app, item["id"])
    edited = (await api.patch(path, json={"script": edit}, headers=s.owner.headers)).json()
    script = edited["script"]
    assert script["edited"] is True
    assert script["title"] == "Harbour: what changes"
    assert [sc["on_screen_text"] for sc in script["scenes"]] == [
        "New: Approved", "New: 3 years", "New: 4,000 a day"
    ]  # fmt: skip
    assert script["scenes"][0]["visual_query"] == "New: Approved"
    assert (script["hashtags"], script["language"]) == (SCRIPT.hashtags, "en")
    stored = ContentRepository(contents_app.state.api.database).script_override(item["id"])
    assert stored is not None
    assert stored.title == "Harbour: what changes"

    too_few = {**edit, "scenes": edit["scenes"][:2]}
    assert (
        await api.patch(path, json={"script": too_few}, headers=s.owner.headers)
    ).status_code == 422
    dropped = (await api.patch(path, json={"script": None}, headers=s.owner.headers)).json()
    assert dropped["script"]["edited"] is False
    assert dropped["script"]["title"] == SCRIPT.title


async def test_deleting_an_item_removes_its_partition_and_unshared_media(
    api: ApiClient, contents_app: FastAPI, dagster: FakeDagster
) -> None:
    s = await studio(api)
    first = await new_item(api, s.owner, s.project_id)
    second = await new_item(api, s.owner, s.project_id)
    media_root: Path = contents_app.state.api.settings.media_dir
    files = {}
    for key in ("video/aa/own.mp4", "narration/bb/shared.wav"):
        files[key] = media_root / key
        files[key].parent.mkdir(parents=True, exist_ok=True)
        files[key].write_bytes(b"x")
    media = MediaRepository(contents_app.state.api.database)
    shared = media_file("narration/bb/shared.wav", "audio/wav", 1)
    media.record(
        first["id"], {"video": media_file("video/aa/own.mp4", "video/mp4", 1), "audio": shared}
    )
    media.record(second["id"], {"audio": shared})
    generated = await api.post(f"/api/v1/contents/{first['id']}/generate", headers=s.owner.headers)
    assert generated.status_code == 202
    busy = await api.delete(f"/api/v1/contents/{first['id']}", headers=s.owner.headers)
    assert busy.status_code == 409
    assert "pending" in busy.json()["detail"]
    assert first["id"] in dagster.partitions[CONTENT_PARTITIONS]

    pipeline_made(contents_app, first["id"])
    deleted = await api.delete(f"/api/v1/contents/{first['id']}", headers=s.owner.headers)
    assert deleted.status_code == 204
    assert not files["video/aa/own.mp4"].exists()
    assert files["narration/bb/shared.wav"].exists()  # the other item's narration too
    assert first["id"] not in dagster.partitions[CONTENT_PARTITIONS]
    with contents_app.state.api.sessions() as session:
        assert session.get(ContentItem, first["id"]) is None
    gone = await api.post(f"/api/v1/contents/{first['id']}/generate", headers=s.owner.headers)
    assert gone.status_code == 404


async def test_deleting_while_dagster_is_down_still_deletes_the_item(
    api: ApiClient, contents_app: FastAPI, dagster: FakeDagster
) -> None:
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id)
    dagster.down()
    deleted = await api.delete(f"/api/v1/contents/{item['id']}", headers=s.owner.headers)
    assert deleted.status_code == 204
    assert ContentRepository(contents_app.state.api.database).known_item_ids([item["id"]]) == set()


async def test_reading_an_item_shows_steps_checks_and_media_of_its_runs(
    api: ApiClient, contents_app: FastAPI
) -> None:
    s = await studio(api)
    item = await new_item(api, s.owner, s.project_id)
    await api.post(f"/api/v1/contents/{item['id']}/generate", headers=s.owner.headers)
    submitter(contents_app).submit_pending()
    pipeline_made(contents_app, item["id"])
    MediaRepository(contents_app.state.api.database).record(
        item["id"], {"video": media_file("video/aa/v.mp4", "video/mp4", 10)}
    )
    read = (await api.get(f"/api/v1/contents/{item['id']}", headers=s.owner.headers)).json()
    assert read["state"] == ContentState.READY
    assert read["script"]["title"] == SCRIPT.title
    assert read["media"] == {"video": f"/api/v1/contents/{item['id']}/media/video"}
