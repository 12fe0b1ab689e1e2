"""The local channel: published videos are files plus a JSON index (a feed) in a folder.

It has no audience: its statistics are real but zero — views, likes, comments, shares and
watch time are 0 — with the URL and publication time from its index.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

from autoclip_core.schemas import PublishReceipt
from resources.errors import PublishError
from resources.publisher.base import (
    ChannelAccount,
    PublisherResource,
    PublishRequest,
    UploadJournal,
    VideoStats,
)

_INDEX_LOCK = threading.Lock()


class LocalChannelPublisher(PublisherResource):
    """Publishes to ``<root>/<channel>/``: ``<content_id>.mp4``, ``.jpg`` and ``index.json``.

    The item's id is the platform id; an item the journal and the index both hold is
    reported, not copied again."""

    root: str

    def channel_dir(self, channel: str) -> Path:
        if not channel or "/" in channel or channel.startswith("."):
            raise PublishError(f"invalid channel name {channel!r}")
        return Path(self.root) / channel

    def index(self, channel: str) -> list[dict[str, object]]:
        path = self.channel_dir(channel) / "index.json"
        if not path.is_file():
            return []
        return json.loads(path.read_text(encoding="utf-8"))["videos"]

    def publish(
        self, request: PublishRequest, account: ChannelAccount, journal: UploadJournal
    ) -> PublishReceipt:
        saved = journal.load()
        if saved.get("platform_id") and self._entry(request.channel, request.content_id):
            return PublishReceipt(
                channel=request.channel,
                url=str(saved["url"]),
                published_at=datetime.fromisoformat(str(saved["published_at"])),
                platform_id=str(saved["platform_id"]),
            )
        folder = self.channel_dir(request.channel)
        folder.mkdir(parents=True, exist_ok=True)
        video = folder / f"{request.content_id}.mp4"
        thumbnail = folder / f"{request.content_id}{request.thumbnail.suffix}"
        _copy_atomically(request.video, video)
        _copy_atomically(request.thumbnail, thumbnail)
        now = datetime.now(UTC)
        entry = {
            "id": request.content_id,
            "title": request.title,
            "description": request.description,
            "hashtags": request.hashtags,
            "language": request.language,
            "video": video.name,
            "thumbnail": thumbnail.name,
            "published_at": now.isoformat(),
        }
        with _INDEX_LOCK:
            videos = [v for v in self.index(request.channel) if v["id"] != request.content_id]
            videos.insert(0, entry)
            index = folder / "index.json"
            tmp = index.with_suffix(".json.tmp")
            tmp.write_text(
                json.dumps(
                    {"channel": request.channel, "videos": videos}, ensure_ascii=False, indent=2
                ),
                encoding="utf-8",
            )
            os.replace(tmp, index)
        receipt = PublishReceipt(
            channel=request.channel,
            url=self.video_url(request.channel, video.name),
            published_at=now,
            platform_id=request.content_id,
        )
        journal.save(platform_id=receipt.platform_id, url=receipt.url, published_at=now.isoformat())
        return receipt

    def video_url(self, channel: str, file_name: str) -> str:
        return (self.channel_dir(channel) / file_name).resolve().as_uri()

    def _entry(self, channel: str, content_id: str) -> dict[str, object] | None:
        return next((v for v in self.index(channel) if v["id"] == content_id), None)

    def video_stats(
        self, content_id: str, receipt: PublishReceipt, account: ChannelAccount
    ) -> VideoStats:
        channel = receipt.channel
        entry = self._entry(channel, content_id)
        if entry is None:
            raise PublishError(f"{content_id} is not published on the local channel {channel!r}")
        return VideoStats(
            channel=channel,
            content_id=content_id,
            url=self.video_url(channel, str(entry["video"])),
            published_at=datetime.fromisoformat(str(entry["published_at"])),
            captured_at=datetime.now(UTC),
        )


def _copy_atomically(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)
