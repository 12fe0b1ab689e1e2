from __future__ import annotations

import json
from pathlib import Path

import pytest

from resources.errors import PublishError
from resources.publisher.base import ChannelAccount, PublishRequest
from resources.publisher.local import LocalChannelPublisher
from tests.fakes.publishing import MemoryJournal

LOCAL = ChannelAccount(slug="local", platform="local")


def request(tmp_path: Path, content_id: str = "demo-1") -> PublishRequest:
    video = tmp_path / "in.mp4"
    thumb = tmp_path / "in.jpg"
    video.write_bytes(b"mp4 bytes")
    thumb.write_bytes(b"jpg bytes")
    return PublishRequest(
        content_id=content_id,
        channel="local",
        video=video,
        thumbnail=thumb,
        title="Title",
        description="About it",
        hashtags=["#news"],
        language="en",
    )


def test_publishing_copies_the_files_and_indexes_them(tmp_path: Path) -> None:
    publisher = LocalChannelPublisher(root=str(tmp_path / "channels"))
    receipt = publisher.publish(request(tmp_path), LOCAL, MemoryJournal())
    folder = tmp_path / "channels" / "local"
    assert (folder / "demo-1.mp4").read_bytes() == b"mp4 bytes"
    assert receipt.url == (folder / "demo-1.mp4").resolve().as_uri()
    index = json.loads((folder / "index.json").read_text())
    assert [v["id"] for v in index["videos"]] == ["demo-1"]
    assert index["videos"][0]["title"] == "Title"


def test_republishing_replaces_the_entry_and_newest_comes_first(tmp_path: Path) -> None:
    publisher = LocalChannelPublisher(root=str(tmp_path / "channels"))
    publisher.publish(request(tmp_path, "a"), LOCAL, MemoryJournal())
    publisher.publish(request(tmp_path, "b"), LOCAL, MemoryJournal())
    publisher.publish(request(tmp_path, "a"), LOCAL, MemoryJournal())
    assert [v["id"] for v in publisher.index("local")] == ["a", "b"]


def test_channel_names_cannot_be_paths(tmp_path: Path) -> None:
    publisher = LocalChannelPublisher(root=str(tmp_path))
    with pytest.raises(PublishError, match="invalid channel"):
        publisher.channel_dir("../etc")


def test_stats_of_a_published_video_are_real_zeros_with_its_url_and_time(tmp_path: Path) -> None:
    publisher = LocalChannelPublisher(root=str(tmp_path / "channels"))
    receipt = publisher.publish(request(tmp_path), LOCAL, MemoryJournal())
    assert receipt.channel == "local"
    stats = publisher.video_stats("demo-1", receipt, LOCAL)
    assert (stats.channel, stats.content_id) == ("local", "demo-1")
    assert stats.url == receipt.url
    assert stats.published_at == receipt.published_at
    assert (stats.views, stats.likes, stats.comments, stats.shares, stats.watch_time_s) == (
        0, 0, 0, 0, 0.0)  # fmt: skip
    assert stats.captured_at >= receipt.published_at


def test_stats_of_a_video_the_channel_does_not_have_are_a_final_error(tmp_path: Path) -> None:
    publisher = LocalChannelPublisher(root=str(tmp_path / "channels"))
    other = publisher.publish(request(tmp_path, "other"), LOCAL, MemoryJournal())
    with pytest.raises(PublishError, match="not published") as raised:
        publisher.video_stats("demo-1", other, LOCAL)
    assert raised.value.retryable is False
    elsewhere = other.model_copy(update={"channel": "empty-channel"})
    with pytest.raises(PublishError):
        publisher.video_stats("other", elsewhere, LOCAL)


def test_an_upload_its_journal_holds_is_reported_not_copied_again(tmp_path: Path) -> None:
    publisher = LocalChannelPublisher(root=str(tmp_path / "channels"))
    journal = MemoryJournal()
    first = publisher.publish(request(tmp_path), LOCAL, journal)
    assert journal.load()["platform_id"] == "demo-1" == first.platform_id
    copied = tmp_path / "channels" / "local" / "demo-1.mp4"
    copied.write_bytes(b"as published")
    again = publisher.publish(request(tmp_path), LOCAL, journal)
    assert again == first
    assert copied.read_bytes() == b"as published"  # nothing copied the second time
    assert len(journal.saves) == 1
