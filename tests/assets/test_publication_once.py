"""``publication`` publishes an item at most once per channel: across re-runs, a second
publish request, a retried step and a process killed mid-upload; quota and lost
authorisations make the upload wait, not fail, until ``upload_retry_sensor`` asks again."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import update

from autoclip_core.db.channels import ChannelState
from autoclip_core.db.content import ContentRepository
from autoclip_core.db.engine import Database
from autoclip_core.db.migrate import upgrade
from autoclip_core.db.models import Channel, new_id, utcnow
from autoclip_core.db.projects import ProjectRepository
from autoclip_core.db.quota import next_window
from autoclip_core.db.uploads import UploadRepository, UploadState
from autoclip_core.pipeline_names import CHANNELS_TAG
from autoclip_core.schemas import PublishReceipt, RenderedVideo, SourceItem
from autoclip_core.settings import Settings
from autoclip_core.states import ContentState
from resources.app_database import AppDatabase
from resources.errors import PublishError, QuotaExhausted
from resources.publisher.base import (
    ChannelAccount,
    PublisherResource,
    PublishRequest,
    UploadJournal,
    VideoStats,
)
from resources.publisher.local import LocalChannelPublisher
from resources.publisher.youtube import CHUNK_UNIT
from resources.storage.filesystem import FilesystemStorage
from sensors.uploads import upload_retry_sensor
from tests.assets.publication_run import publish_item
from tests.fakes.youtube_api import (
    CLIENT_ID,
    CLIENT_SECRET,
    FakeYouTubeAPI,
    running_fake_youtube,
)

ROOT = Path(__file__).resolve().parents[2]
ITEM = "harbour-000000000001"


@dataclass
class Item:
    settings: Settings
    database: Database
    video: RenderedVideo
    size: int


@pytest.fixture
def item(tmp_path: Path) -> Iterator[Item]:
    """A rendered item on SQLite (the locks and the journal are proven on both databases by
    the crash test and ``tests/core/db``)."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    database = Database.open(url)
    yield make_item(database, tmp_path)
    database.dispose()


@pytest.fixture
def item_on_both(db: Database, tmp_path: Path) -> Item:
    """A rendered item on SQLite and on PostgreSQL."""
    return make_item(db, tmp_path)


def make_item(db: Database, tmp_path: Path) -> Item:
    """A rendered item of the sources-file project ``harbour`` (no review), its video a few
    MB of random bytes in the media store."""
    settings = Settings(data_dir=tmp_path, database_url=db.url)
    ProjectRepository(db).ensure("harbour")
    ContentRepository(db).register_item(
        SourceItem(id=ITEM, project="harbour", source="feed", url="https://e.kr/1",
                   title="A new harbour", text="Text.")
    )  # fmt: skip
    ContentRepository(db).set_state(ITEM, ContentState.PROCESSING)
    ContentRepository(db).set_state(ITEM, ContentState.READY)
    storage = FilesystemStorage(root=str(settings.media_dir))
    size = 12 * CHUNK_UNIT + 999
    video_key = storage.put_bytes("video/ab/harbour.mp4", random.Random(3).randbytes(size))
    thumbnail_key = storage.put_bytes("video/ab/harbour.jpg", b"\xff\xd8\xff\xe0" + bytes(400))
    video = RenderedVideo(
        video_key=video_key, thumbnail_key=thumbnail_key, duration=44.0, width=1080,
        height=1920, fps=30, size_bytes=size, render_seconds=1.0, template="short",
    )  # fmt: skip
    return Item(settings, db, video, size)


def calls_of(folder: Path) -> list[dict[str, object]]:
    log = folder / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


class RecordingPublisher(LocalChannelPublisher):
    """The local channel, each call logged with what its journal held; ``fail_first``: the
    first call of each channel saves a session and then fails like a dropped connection."""

    fail_first: bool = False

    def publish(
        self, request: PublishRequest, account: ChannelAccount, journal: UploadJournal
    ) -> PublishReceipt:
        before = journal.load()
        log = Path(self.root) / "calls.jsonl"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as f:
            f.write(json.dumps({"channel": request.channel, "journal": before}) + "\n")
        if self.fail_first and "session" not in before:
            journal.save(session=f"session-{request.channel}")
            raise PublishError("connection reset mid-upload", retryable=True, retry_after=0)
        return super().publish(request, account, journal)


class QuotaSpent(PublisherResource):
    """Every upload would pass the day's quota."""

    def publish(
        self, request: PublishRequest, account: ChannelAccount, journal: UploadJournal
    ) -> PublishReceipt:
        raise QuotaExhausted("YouTube quota: the day's units are spent", retry_after=3600.0)

    def video_stats(
        self, content_id: str, receipt: PublishReceipt, account: ChannelAccount
    ) -> VideoStats:
        raise AssertionError("not asked")


def test_a_rerun_and_a_second_request_report_the_published_uploads(
    item: Item, tmp_path: Path
) -> None:
    root = tmp_path / "channels"
    publisher = RecordingPublisher(root=str(root))
    first = publish_item(item.settings, ITEM, item.video, ["local", "archive"],
                         publisher=publisher)  # fmt: skip
    assert first.success
    receipts = first.output_for_node("publication").receipts
    assert [r.channel for r in receipts] == ["local", "archive"]
    assert [c["channel"] for c in calls_of(root)] == ["local", "archive"]

    again = publish_item(item.settings, ITEM, item.video, ["local", "archive"],
                         publisher=publisher)  # fmt: skip
    assert again.output_for_node("publication").receipts == receipts
    UploadRepository(item.database).request(ITEM, ["local"])  # POST /publish once more
    third = publish_item(item.settings, ITEM, item.video, ["local"], publisher=publisher)
    assert third.output_for_node("publication").receipts == receipts[:1]
    assert len(calls_of(root)) == 2  # the publisher was never asked again
    uploads = {u.channel: u for u in UploadRepository(item.database).of_content(ITEM)}
    assert {(u.state, u.attempts) for u in uploads.values()} == {(UploadState.PUBLISHED, 1)}
    assert uploads["local"].platform_id == ITEM


def test_a_publish_run_shows_a_ready_item_published_when_its_upload_is_done(
    item: Item, tmp_path: Path
) -> None:
    """Approve → published does not wait for the run-status sensor's next look."""
    publisher = RecordingPublisher(root=str(tmp_path / "channels"))
    result = publish_item(item.settings, ITEM, item.video, ["local"], publisher=publisher)
    assert result.success
    status = ContentRepository(item.database).status(ITEM)
    assert status.state == ContentState.PUBLISHED
    assert status.published_url == result.output_for_node("publication").url


def test_a_step_retried_mid_upload_resumes_the_session_it_journaled(
    item: Item, tmp_path: Path
) -> None:
    root = tmp_path / "channels"
    flaky = RecordingPublisher(root=str(root), fail_first=True)
    result = publish_item(item.settings, ITEM, item.video, ["local"], publisher=flaky)
    assert result.success
    assert [c["journal"] for c in calls_of(root)] == [{}, {"session": "session-local"}]
    [upload] = UploadRepository(item.database).of_content(ITEM)
    assert (upload.state, upload.attempts) == (UploadState.PUBLISHED, 2)


def test_quota_and_a_lost_authorisation_make_uploads_wait_until_the_sensor_asks_again(
    item: Item,
) -> None:
    with item.database.transaction() as s:
        for slug, state in (("yt-main", ChannelState.ACTIVE),
                            ("yt-gone", ChannelState.RECONNECT_REQUIRED)):  # fmt: skip
            s.add(Channel(id=new_id(), org_id=None, project_id=None, platform="youtube",
                          name=slug, slug=slug, settings={}, state=state,
                          created_at=utcnow()))  # fmt: skip
    before = datetime.now(UTC)
    result = publish_item(item.settings, ITEM, item.video, ["yt-main", "yt-gone"],
                          publisher=QuotaSpent())  # fmt: skip
    assert result.success  # waiting is no failure
    made = {e.asset_key for e in result.get_asset_materialization_events()}
    assert dg.AssetKey("publication") not in made  # nothing published yet
    uploads = {u.channel: u for u in UploadRepository(item.database).of_content(ITEM)}
    quota, gone = uploads["yt-main"], uploads["yt-gone"]
    assert (quota.state, gone.state) == (UploadState.WAITING, UploadState.WAITING)
    assert quota.retry_at is not None
    assert before + timedelta(minutes=59) < quota.retry_at < before + timedelta(minutes=61)
    assert "quota" in (quota.error or "")
    assert gone.retry_at is None
    assert "connected again" in (gone.error or "")
    assert gone.attempts == 0  # the publisher was not asked
    assert ContentRepository(item.database).status(ITEM).state == ContentState.READY

    app_db = AppDatabase(url=item.database.url)
    context = dg.build_sensor_context(resources={"app_db": app_db})
    assert upload_retry_sensor(context).run_requests == []  # neither is due
    with item.database.transaction() as s:
        s.execute(update(Channel).where(Channel.slug == "yt-gone")
                  .values(state=ChannelState.ACTIVE, updated_at=utcnow()))  # fmt: skip
    UploadRepository(item.database).waiting(
        ITEM, "yt-main", "quota", retry_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    [request] = upload_retry_sensor(context).run_requests
    assert request.partition_key == ITEM
    assert request.tags[CHANNELS_TAG] == "yt-gone,yt-main"
    app_db.database.dispose()


STEP_MODULE = "tests.assets.publication_run"


def youtube_settings(
    item: Item, data_dir: Path, api: FakeYouTubeAPI, refresh_token: str
) -> dict[str, str]:
    """Settings (by field) publishing to the headless YouTube channel on the fake."""
    return {
        "data_dir": str(data_dir),
        "database_url": item.database.url,
        "publisher_provider": "youtube",
        "youtube_client_id": CLIENT_ID,
        "youtube_client_secret": CLIENT_SECRET,
        "youtube_refresh_token": refresh_token,
        "youtube_base_url": api.base,
        "google_oauth_base_url": api.base,
    }


def test_a_publication_step_killed_mid_upload_resumes_and_makes_one_video(
    item_on_both: Item, tmp_path: Path
) -> None:
    """The step's process is SIGKILLed while YouTube holds the upload; run again, it resumes
    the session the uploads row journaled: one video, with the file's bytes, the bytes Google
    kept not sent again."""
    item = item_on_both
    held_at = 7 * CHUNK_UNIT + 1234
    data = (
        FilesystemStorage(root=str(item.settings.media_dir))
        .local_path(item.video.video_key)
        .read_bytes()
    )
    with running_fake_youtube() as api:
        refresh_token = api.grant_refresh_token()
        values = youtube_settings(item, tmp_path, api, refresh_token)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            **{f"AUTOCLIP_{name.upper()}": value for name, value in values.items()},
        }
        held = api.hold_at(held_at)
        step = subprocess.Popen(
            [sys.executable, "-m", STEP_MODULE, ITEM, item.video.model_dump_json(), "youtube"],
            cwd=ROOT,
            env=env,
        )
        try:
            assert held.wait(timeout=60), "the upload never reached the hold"
            step.send_signal(signal.SIGKILL)
            assert step.wait(timeout=10) == -signal.SIGKILL
        finally:
            if step.poll() is None:
                step.kill()
        api.release()
        [upload] = UploadRepository(item.database).of_content(ITEM)
        assert (upload.state, upload.attempts) == (UploadState.UPLOADING, 1)
        journaled = UploadRepository(item.database).journal(ITEM, "youtube")
        assert journaled["session_uri"].startswith(api.base)
        assert api.videos == {}

        settings = Settings(**youtube_settings(item, tmp_path, api, refresh_token))
        for _ in range(2):  # run again, and once more: reported, not uploaded
            result = publish_item(settings, ITEM, item.video, ["youtube"])
            assert result.success
        [receipt] = result.output_for_node("publication").receipts

        assert len(api.videos) == 1
        assert api.videos[receipt.platform_id or ""].sha256 == hashlib.sha256(data).hexdigest()
        assert [op for _m, op, _s in api.log].count("videos.insert") == 1
        journal = UploadRepository(item.database).journal(ITEM, "youtube")
        kept = held_at // CHUNK_UNIT * CHUNK_UNIT
        assert journal["session_uri"] == journaled["session_uri"]
        assert journal["resumed_from"] == [kept]
        assert journal["bytes_put"] == item.size - kept  # the kept bytes were not sent again
        [upload] = UploadRepository(item.database).of_content(ITEM)
        assert (upload.state, upload.attempts, upload.platform_id) == (
            UploadState.PUBLISHED, 2, receipt.platform_id)  # fmt: skip


def test_an_upload_past_the_days_youtube_quota_waits_for_the_pacific_midnight(
    item: Item, tmp_path: Path
) -> None:
    with running_fake_youtube() as api:
        settings = Settings(
            **youtube_settings(item, tmp_path, api, api.grant_refresh_token()),
            youtube_daily_uploads=0,  # the day's upload bucket is spent
        )
        result = publish_item(settings, ITEM, item.video, ["youtube"])
        assert result.success
        assert "videos.insert" not in [op for _m, op, _s in api.log]  # nothing was sent
    [upload] = UploadRepository(item.database).of_content(ITEM)
    assert upload.state == UploadState.WAITING
    assert upload.retry_at == next_window(datetime.now(UTC))
    assert "next window" in (upload.error or "")
