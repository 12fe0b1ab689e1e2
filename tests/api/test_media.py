"""A content item's media over HTTP: byte ranges a <video> seeks with, caching headers,
captions as WebVTT, tenancy — and, end to end, what the pipeline renders with an
organisation's own template is what the API serves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest
from fastapi import FastAPI

from autoclip_api.media.service import Media
from autoclip_assets.definitions import build_definitions
from autoclip_assets.partitions import content_items
from autoclip_core.db.engine import Database
from autoclip_core.db.media import MediaRepository, media_file
from autoclip_core.feeds import SAMPLE_FEED, read_feed
from autoclip_core.render.probe import probe
from autoclip_core.render.templates import load_template
from autoclip_core.schemas import SourceItem
from resources.app_database import AppDatabase
from tests.api.helpers import Account, ApiClient, problem

pytestmark = pytest.mark.anyio

VIDEO = bytes(range(256)) * 4  # 1024 bytes, each position recognisable
CUES = [
    {"text": "Solar power is <cheap> & clean", "start": 0.0, "end": 1.25},
    {"text": "Batteries last", "start": 1.25, "end": 62.5},
]


def store(root: Path, key: str, data: bytes) -> str:
    path = root / "media" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return key


async def item_with_media(
    client: ApiClient, owner: Account, pg_url: str, data_dir: Path, content_id: str = "news-1"
) -> str:
    project = await client.project(owner)
    db = Database.open(pg_url)
    AppDatabase(url=pg_url).content.register_item(
        SourceItem(id=content_id, project=project["slug"], source="api", url="https://e.kr/1",
                   title="Story", text="Text.")
    )  # fmt: skip
    files = {
        "video": (store(data_dir, "video/ab/ab12.mp4", VIDEO), "video/mp4"),
        "thumbnail": (store(data_dir, "video/ab/ab12.jpg", b"\xff\xd8jpeg"), "image/jpeg"),
        "captions": (
            store(data_dir, "captions/cd/cd34.json", json.dumps({"cues": CUES}).encode()),
            "application/json",
        ),
    }
    MediaRepository(db).record(
        content_id, {k: media_file(key, t, len(VIDEO)) for k, (key, t) in files.items()}
    )
    db.dispose()
    return content_id


async def video_with_range(
    client: ApiClient, pg_url: str, data_dir: Path, requested: str
) -> httpx.Response:
    """An owner's item's video, asked for with ``Range: <requested>``."""
    owner = await client.register()
    content_id = await item_with_media(client, owner, pg_url, data_dir)
    return await client.get(
        f"/api/v1/contents/{content_id}/media/video",
        headers={**owner.headers, "Range": requested},
    )


@pytest.fixture
def data_dir(app: FastAPI) -> Path:
    return Path(app.state.api.settings.root)


async def test_the_video_is_served_whole_with_caching_headers(
    client: ApiClient, pg_url: str, data_dir: Path
) -> None:
    owner = await client.register()
    content_id = await item_with_media(client, owner, pg_url, data_dir)
    response = await client.get(f"/api/v1/contents/{content_id}/media/video", headers=owner.headers)
    assert response.status_code == 200
    assert response.content == VIDEO
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["content-length"] == "1024"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["cache-control"] == "private"
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"].endswith(" GMT")
    thumbnail = await client.get(
        f"/api/v1/contents/{content_id}/media/thumbnail", headers=owner.headers
    )
    assert (thumbnail.headers["content-type"], thumbnail.content) == ("image/jpeg", b"\xff\xd8jpeg")


@pytest.mark.parametrize(
    ("requested", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-199", 100, 199),
        ("bytes=1000-", 1000, 1023),
        ("bytes=-10", 1014, 1023),
        ("bytes=-5000", 0, 1023),  # a suffix longer than the file: all of it
        ("bytes=1020-5000", 1020, 1023),  # an end past the file ends with the file
        ("bytes=1023-1023", 1023, 1023),
        ("bytes= 5 - 9", 5, 9),
    ],
)
async def test_a_byte_range_is_answered_206_with_exactly_those_bytes(
    client: ApiClient, pg_url: str, data_dir: Path, requested: str, first: int, last: int
) -> None:
    response = await video_with_range(client, pg_url, data_dir, requested)
    assert response.status_code == 206
    assert response.content == VIDEO[first : last + 1]
    assert response.headers["content-range"] == f"bytes {first}-{last}/1024"
    assert response.headers["content-length"] == str(last - first + 1)


@pytest.mark.parametrize("requested", ["bytes=1024-", "bytes=5000-6000", "bytes=-0"])
async def test_a_range_past_the_end_is_416(
    client: ApiClient, pg_url: str, data_dir: Path, requested: str
) -> None:
    response = await video_with_range(client, pg_url, data_dir, requested)
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */1024"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 416


@pytest.mark.parametrize("requested", ["bytes=9-2", "bytes=0-1,5-6", "items=0-9", "bytes=x-y"])
async def test_a_range_we_do_not_serve_gets_the_whole_file(
    client: ApiClient, pg_url: str, data_dir: Path, requested: str
) -> None:
    response = await video_with_range(client, pg_url, data_dir, requested)
    assert (response.status_code, response.content) == (200, VIDEO)


async def test_conditional_requests_use_the_etag_and_last_modified(
    client: ApiClient, pg_url: str, data_dir: Path
) -> None:
    owner = await client.register()
    content_id = await item_with_media(client, owner, pg_url, data_dir)
    url = f"/api/v1/contents/{content_id}/media/video"
    first = await client.get(url, headers=owner.headers)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    cached = await client.get(url, headers={**owner.headers, "If-None-Match": etag})
    assert (cached.status_code, cached.content, cached.headers["etag"]) == (304, b"", etag)
    dated = await client.get(url, headers={**owner.headers, "If-Modified-Since": modified})
    assert dated.status_code == 304
    other = await client.get(url, headers={**owner.headers, "If-None-Match": '"other"'})
    assert other.status_code == 200
    resumed = await client.get(
        url, headers={**owner.headers, "Range": "bytes=10-19", "If-Range": etag}
    )
    assert (resumed.status_code, resumed.content) == (206, VIDEO[10:20])
    changed = await client.get(
        url, headers={**owner.headers, "Range": "bytes=10-19", "If-Range": '"stale"'}
    )
    assert (changed.status_code, changed.content) == (200, VIDEO)
    head = await client.head(url, headers={**owner.headers, "Range": "bytes=0-9"})
    assert (head.status_code, head.content) == (206, b"")
    assert head.headers["content-length"] == "10"


async def test_captions_are_webvtt_of_the_narrations_phrases(
    client: ApiClient, pg_url: str, data_dir: Path
) -> None:
    owner = await client.register()
    content_id = await item_with_media(client, owner, pg_url, data_dir)
    response = await client.get(
        f"/api/v1/contents/{content_id}/media/captions", headers=owner.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/vtt; charset=utf-8"
    assert response.text == (
        "WEBVTT\n\n"
        "1\n00:00:00.000 --> 00:00:01.250\nSolar power is &lt;cheap&gt; &amp; clean\n\n"
        "2\n00:00:01.250 --> 00:01:02.500\nBatteries last\n"
    )
    ranged = await client.get(
        f"/api/v1/contents/{content_id}/media/captions",
        headers={**owner.headers, "Range": "bytes=0-5"},
    )
    assert (ranged.status_code, ranged.text) == (206, "WEBVTT")


async def test_another_organisations_item_is_404_and_viewers_may_watch(
    client: ApiClient, pg_url: str, data_dir: Path
) -> None:
    owner = await client.register()
    content_id = await item_with_media(client, owner, pg_url, data_dir)
    url = f"/api/v1/contents/{content_id}/media/video"
    stranger = await client.register()
    assert (await client.get(url, headers=stranger.headers)).json() == problem(
        404, "Content not found"
    )
    missing = await client.get("/api/v1/contents/nope/media/video", headers=owner.headers)
    assert missing.json() == problem(404, "Content not found")
    viewer = await client.member(owner, "viewer")
    assert (await client.get(url, headers=viewer.headers)).content == VIDEO
    audio = await client.get(f"/api/v1/contents/{content_id}/media/audio", headers=owner.headers)
    assert audio.json() == problem(404, "No audio for this content yet")
    bad_kind = await client.get(
        f"/api/v1/contents/{content_id}/media/script", headers=owner.headers
    )
    assert bad_kind.status_code == 422
    assert (await client.get(url)).status_code == 401


async def test_a_recorded_key_outside_the_media_folder_is_never_read(
    client: ApiClient, pg_url: str, data_dir: Path
) -> None:
    owner = await client.register()
    content_id = await item_with_media(client, owner, pg_url, data_dir)
    (data_dir / "secret.txt").write_text("not media")
    db = Database.open(pg_url)
    MediaRepository(db).record(content_id, {"audio": media_file("../secret.txt", "audio/wav", 9)})
    db.dispose()
    response = await client.get(
        f"/api/v1/contents/{content_id}/media/audio", headers=owner.headers
    )
    assert response.json() == problem(404, "The audio file is no longer stored")


# end to end ---------------------------------------------------------------------------------


def small_template() -> dict[str, Any]:
    """The built-in short at a quarter of its size (text is sized in vmin: it scales)."""
    template = load_template("short")
    template.update({"width": 270, "height": 480, "fill_color": "#102030"})
    return template


async def test_the_pipeline_renders_with_the_organisations_template_and_the_api_serves_it(
    client: ApiClient, app: FastAPI, pg_url: str, data_dir: Path
) -> None:
    owner = await client.register()
    created = await client.post(
        "/api/v1/templates", json={"name": "Small", "source": small_template()},
        headers=owner.headers,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    template_id = created.json()["id"]
    project = (
        await client.post(
            "/api/v1/projects", json={"name": "Pipeline", "template_id": template_id},
            headers=owner.headers,
        )
    ).json()  # fmt: skip
    channel = (
        await client.post(
            f"/api/v1/projects/{project['id']}/channels",
            json={"platform": "local", "name": "Site"}, headers=owner.headers,
        )
    ).json()  # fmt: skip
    english = next(
        i for i in read_feed(str(SAMPLE_FEED), project=project["slug"])
        if not any("\uac00" <= c <= "\ud7a3" for c in i.text)
    )  # fmt: skip
    settings = app.state.api.settings
    app_db = AppDatabase(url=settings.app_database_url)
    app_db.content.register_item(english)
    (data_dir / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(data_dir / "dagster")) as instance:
        instance.add_dynamic_partitions(content_items.name, [english.id])
        defs = build_definitions(settings)

        def run(job: str) -> dg.ExecuteInProcessResult:
            return defs.resolve_job_def(job).execute_in_process(
                instance=instance, partition_key=english.id, raise_on_error=False
            )

        result = run("content_job")
        await client.patch(
            f"/api/v1/projects/{project['id']}", json={"channels": []}, headers=owner.headers
        )
        nowhere = run("publish_job")  # the routed channels are read again by topic_selection
        again = run("content_job")
    assert result.success
    [failure] = again.get_step_failure_events()
    assert failure.step_key == "publication"
    assert "no channel to publish to" in str(failure.event_specific_data.error)
    assert nowhere.success  # publish_job reuses the route topic_selection stored
    media = app_db.media.of_content(english.id)
    assert set(media) == {"video", "thumbnail", "audio", "captions"}
    stored = data_dir / "media" / media["video"].storage_key
    info = probe(stored)
    assert info.video is not None
    assert (info.video.width, info.video.height) == (270, 480)  # the organisation's template
    published = data_dir / "channels" / channel["slug"] / f"{english.id}.mp4"
    assert published.read_bytes() == stored.read_bytes()

    url = f"/api/v1/contents/{english.id}/media/video"
    size = stored.stat().st_size
    tail = await client.get(url, headers={**owner.headers, "Range": f"bytes={size - 100}-"})
    assert (tail.status_code, tail.content) == (206, stored.read_bytes()[-100:])
    vtt = (await client.get(f"/api/v1/contents/{english.id}/media/captions",
                            headers=owner.headers)).text  # fmt: skip
    assert vtt.startswith("WEBVTT\n\n1\n00:00:00.")
    assert vtt.count(" --> ") == len(json.loads(
        (data_dir / "media" / media["captions"].storage_key).read_text())["cues"])  # fmt: skip
    audio = await client.get(f"/api/v1/contents/{english.id}/media/audio", headers=owner.headers)
    assert (audio.headers["content-type"], audio.content[:4]) == ("audio/wav", b"RIFF")
    app_db.database.dispose()


async def test_no_database_connection_is_held_while_a_file_streams(
    client: ApiClient, app: FastAPI, pg_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held: list[int] = []

    def read(self: Media, start: int, end: int) -> Iterator[bytes]:
        held.append(app.state.api.engine.pool.checkedout())
        yield VIDEO[start : end + 1]

    monkeypatch.setattr(Media, "read", read)
    owner = await client.register()
    content_id = await item_with_media(client, owner, pg_url, data_dir)
    response = await client.get(f"/api/v1/contents/{content_id}/media/video", headers=owner.headers)
    assert (response.status_code, response.content) == (200, VIDEO)
    assert held == [0]
