"""The uploads journal: one row per (item, channel), written before the upload starts, that a
second request, a failed run or a waiting quota never turns into a second upload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import inspect, text

from autoclip_core.db.channels import ChannelState
from autoclip_core.db.content import ContentRepository
from autoclip_core.db.engine import Database
from autoclip_core.db.migrate import alembic_config
from autoclip_core.db.models import Channel, new_id, utcnow
from autoclip_core.db.projects import ProjectRepository
from autoclip_core.db.uploads import UploadRepository, UploadState
from autoclip_core.schemas import PublishReceipt
from tests.core.db.helpers import item

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_an_upload_keeps_its_journal_and_stays_published_once_published(db: Database) -> None:
    ProjectRepository(db).ensure("news")
    ContentRepository(db).register_item(item(1))
    content_id = item(1).id
    uploads = UploadRepository(db)
    uploads.request(content_id, ["yt", "tt"])
    uploads.begin(content_id, "yt")
    uploads.save_journal(content_id, "yt", {"session_uri": "https://up/1", "bytes": 0})
    uploads.save_journal(content_id, "yt", {"bytes": 262144})
    assert uploads.journal(content_id, "yt") == {"session_uri": "https://up/1", "bytes": 262144}
    [yt, tt] = sorted(uploads.of_content(content_id), key=lambda u: u.channel, reverse=True)
    assert (yt.state, yt.attempts, tt.state, tt.attempts) == ("uploading", 1, "pending", 0)

    # the run fails: the started upload is failed with its journal kept for the next try
    uploads.failed(content_id, ["yt", "tt"], "youtube: 503")
    record = uploads.get(content_id, "yt")
    assert record is not None
    assert (record.state, record.attempts, record.error) == ("failed", 1, "youtube: 503")
    assert uploads.journal(content_id, "yt")["session_uri"] == "https://up/1"

    uploads.request(content_id, ["yt"])
    uploads.begin(content_id, "yt")
    uploads.save_journal(content_id, "yt", {"platform_id": "vid-1", "url": "https://yt/vid-1"})
    receipt = PublishReceipt(channel="yt", url="https://yt/vid-1", published_at=NOW,
                             platform_id="vid-1")  # fmt: skip
    uploads.published(content_id, [receipt])
    uploads.published(content_id, [receipt])  # the run-status sensor records it again
    record = uploads.get(content_id, "yt")
    assert record is not None
    assert (record.state, record.attempts, record.platform_id) == ("published", 2, "vid-1")
    assert record.receipt() == receipt

    # a second publish request and a failing later run leave it published
    uploads.request(content_id, ["yt", "tt"])
    uploads.failed(content_id, ["yt"], "a later run failed")
    assert uploads.get(content_id, "yt") == record


def test_waiting_uploads_are_due_at_their_window_or_once_their_channel_is_reconnected(
    db: Database,
) -> None:
    ProjectRepository(db).ensure("news")
    content = ContentRepository(db)
    for n in (1, 2):
        content.register_item(item(n))
    with db.transaction() as s:
        s.add(Channel(id=new_id(), org_id=None, project_id=None, platform="tiktok",
                      name="t", slug="tiktok", settings={},
                      state=ChannelState.RECONNECT_REQUIRED, created_at=utcnow()))  # fmt: skip
    uploads = UploadRepository(db)
    uploads.waiting(item(1).id, "youtube", "quota", retry_at=NOW + timedelta(hours=3))
    uploads.waiting(item(2).id, "tiktok", "reconnect", retry_at=None)
    assert uploads.due(NOW) == []
    [quota] = uploads.due(NOW + timedelta(hours=3))
    assert (quota.content_id, quota.channel, quota.since) == (
        item(1).id, "youtube", NOW + timedelta(hours=3))  # fmt: skip
    waiting = uploads.get(item(1).id, "youtube")
    assert waiting is not None
    assert (waiting.state, waiting.error) == (UploadState.WAITING, "quota")

    # a failed run does not turn a wait into a failure
    uploads.failed(item(1).id, ["youtube"], "another channel failed")
    assert uploads.get(item(1).id, "youtube") == waiting

    with db.transaction() as s:
        channel = s.query(Channel).filter_by(slug="tiktok").one()
        channel.state = ChannelState.ACTIVE
        channel.updated_at = NOW
    assert [(d.content_id, d.channel, d.since) for d in uploads.due(NOW)] == [
        (item(2).id, "tiktok", NOW)
    ]


def test_migration_0011_goes_both_ways(db: Database) -> None:
    config = alembic_config(db.url)
    with db.transaction() as s:
        s.add(Channel(id=new_id(), org_id=None, project_id=None, platform="youtube",
                      name="y", slug="youtube", settings={}, state=ChannelState.ACTIVE,
                      created_at=utcnow()))  # fmt: skip
    command.downgrade(config, "0010")
    tables = set(inspect(db.engine).get_table_names())
    assert not {"youtube_quota", "channel_authorizations"} & tables
    assert "journal" not in {c["name"] for c in inspect(db.engine).get_columns("uploads")}
    command.upgrade(config, "head")
    assert {"youtube_quota", "channel_authorizations"} <= set(inspect(db.engine).get_table_names())
    with db.engine.connect() as conn:  # the channel without an organisation went with 0011
        assert conn.execute(text("SELECT count(*) FROM channels")).scalar() == 0
