"""Media on S3: the pipeline stores everything in a bucket (moto in server mode, its own
process) and nothing under the data dir's media folder, and the API answers a media request
with a redirect to a presigned URL of the object (captions are still converted here)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import dagster as dg
import httpx
import pytest
from fastapi import FastAPI

from autoclip_assets.definitions import build_definitions
from autoclip_assets.partitions import content_items
from autoclip_core.db.engine import Database
from autoclip_core.db.media import MediaRepository, media_file
from autoclip_core.feeds import SAMPLE_FEED, read_feed
from autoclip_core.render.probe import probe
from autoclip_core.schemas import RenderedVideo, SourceItem
from resources.app_database import AppDatabase
from resources.storage.s3 import S3Storage
from tests.api.helpers import Account, ApiClient, problem
from tests.api.test_media import CUES, small_template
from tests.fakes.s3 import new_bucket, s3_for_tests

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with s3_for_tests() as origin:
        yield origin


@pytest.fixture
def bucket(endpoint: str) -> str:
    return new_bucket(endpoint)


@pytest.fixture
def app(app_factory: Callable[..., FastAPI], endpoint: str, bucket: str) -> FastAPI:
    return app_factory(storage_provider="s3", s3_bucket=bucket, s3_endpoint_url=endpoint)


def objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


async def test_a_render_with_s3_as_the_only_storage_is_served_by_presigned_redirects(
    client: ApiClient, app: FastAPI, endpoint: str, bucket: str
) -> None:
    owner = await client.register()
    created = await client.post(
        "/api/v1/templates", json={"name": "Small", "source": small_template()},
        headers=owner.headers,
    )  # fmt: skip
    project = (
        await client.post(
            "/api/v1/projects", json={"name": "S3", "template_id": created.json()["id"]},
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
    root = Path(settings.root)
    (root / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(root / "dagster")) as instance:
        instance.add_dynamic_partitions(content_items.name, [english.id])
        defs = build_definitions(settings)
        assert isinstance(defs.resources["storage"], S3Storage)

        result = defs.resolve_job_def("content_job").execute_in_process(
            instance=instance, partition_key=english.id, raise_on_error=False
        )
    assert result.success
    assert not (root / "media").exists()
    stored = objects(endpoint, bucket)
    # Only the local cache of the bucket is left on disk: drop it, and everything read from
    # here on comes from S3.
    shutil.rmtree(root / "s3-cache")
    rendered: RenderedVideo = result.output_for_node("video")
    assert S3Storage.from_settings(settings).size(rendered.video_key) == rendered.size_bytes

    media = app_db.media.of_content(english.id)
    video = stored[media["video"].storage_key]
    published = root / "channels" / channel["slug"] / f"{english.id}.mp4"
    assert published.read_bytes() == video
    info = probe(published)
    assert info.video is not None
    assert (info.video.width, info.video.height) == (270, 480)

    url = f"/api/v1/contents/{english.id}/media/video"
    answer = await client.get(url, headers=owner.headers)
    assert answer.status_code == 307
    location = answer.headers["location"]
    assert location.startswith(f"{endpoint}/{bucket}/{media['video'].storage_key}?")
    assert f"X-Amz-Expires={settings.s3_presign_seconds}" in location
    fetched = httpx.get(location)
    assert (fetched.status_code, fetched.content) == (200, video)
    tail = httpx.get(location, headers={"Range": f"bytes={len(video) - 100}-"})
    assert (tail.status_code, tail.content) == (206, video[-100:])

    vtt = await client.get(f"/api/v1/contents/{english.id}/media/captions", headers=owner.headers)
    assert vtt.status_code == 200
    cues = json.loads(stored[media["captions"].storage_key])["cues"]
    assert vtt.text.startswith("WEBVTT\n\n1\n00:00:00.")
    assert vtt.text.count(" --> ") == len(cues)
    app_db.database.dispose()


async def item_on_s3(
    client: ApiClient, pg_url: str, storage: S3Storage, owner: Account
) -> str:
    project = await client.project(owner)
    AppDatabase(url=pg_url).content.register_item(
        SourceItem(id="news-1", project=project["slug"], source="api", url="https://e.kr/1",
                   title="Story", text="Text.")
    )  # fmt: skip
    storage.put_bytes("video/ab/ab12.mp4", b"movie")
    storage.put_bytes("captions/cd/cd34.json", json.dumps({"cues": CUES}).encode())
    db = Database.open(pg_url)
    MediaRepository(db).record(
        "news-1",
        {
            "video": media_file("video/ab/ab12.mp4", "video/mp4", 5),
            "captions": media_file("captions/cd/cd34.json", "application/json", 10),
            "thumbnail": media_file("video/ab/gone.jpg", "image/jpeg", 3),
        },
    )
    db.dispose()
    return "news-1"


async def test_tenancy_holds_and_missing_captions_are_404_with_s3(
    client: ApiClient, app: FastAPI, pg_url: str
) -> None:
    settings = app.state.api.settings
    storage = S3Storage.from_settings(settings)
    owner = await client.register()
    content_id = await item_on_s3(client, pg_url, storage, owner)
    base = f"/api/v1/contents/{content_id}/media"

    head = await client.request("HEAD", f"{base}/video", headers=owner.headers)
    assert head.status_code == 307
    assert httpx.get(head.headers["location"]).content == b"movie"
    captions = await client.get(f"{base}/captions", headers=owner.headers)
    assert captions.headers["content-type"] == "text/vtt; charset=utf-8"
    assert "Solar power is &lt;cheap&gt; &amp; clean" in captions.text

    stranger = await client.register()
    refused = await client.get(f"{base}/video", headers=stranger.headers)
    assert refused.status_code == 404
    assert "location" not in refused.headers
    assert (await client.get(f"{base}/audio", headers=owner.headers)).status_code == 404

    storage.client().delete_object(Bucket=storage.bucket, Key="captions/cd/cd34.json")
    gone = await client.get(f"{base}/captions", headers=owner.headers)
    assert gone.status_code == 404
    assert gone.json() == problem(404, "The captions file is no longer stored")


async def test_deleting_an_item_removes_its_objects_from_the_bucket(
    client: ApiClient, app: FastAPI, pg_url: str, endpoint: str, bucket: str
) -> None:
    storage = S3Storage.from_settings(app.state.api.settings)
    owner = await client.register()
    content_id = await item_on_s3(client, pg_url, storage, owner)
    storage.put_bytes("video/ef/ef56.mp4", b"another item's movie")
    assert set(objects(endpoint, bucket)) == {
        "video/ab/ab12.mp4", "captions/cd/cd34.json", "video/ef/ef56.mp4"
    }  # fmt: skip

    deleted = await client.delete(f"/api/v1/contents/{content_id}", headers=owner.headers)

    assert deleted.status_code == 204
    assert set(objects(endpoint, bucket)) == {"video/ef/ef56.mp4"}
