"""A process killed mid-upload (SIGKILL, not an exception) and the publication run again: the
upload resumes the journaled session and exactly one video exists, with the file's bytes."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from resources.publisher.base import ChannelAccount, PublishRequest
from resources.publisher.youtube import CHUNK_UNIT, YouTubePublisher
from tests.fakes.fixtures import _loopback_only  # noqa: F401  (autouse: loopback only)
from tests.fakes.publishing import MemoryJournal, MemoryTokenStore
from tests.fakes.youtube_api import CLIENT_ID, CLIENT_SECRET, running_fake_youtube

ROOT = Path(__file__).resolve().parents[3]
CHUNK = 2 * CHUNK_UNIT
SIZE = 8 * CHUNK + 777
HELD_AT = 5 * CHUNK + 4321

# The publication step in a process of its own, with the journal in a file (as the app
# database keeps it: every save durable before save returns).
STEP = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from resources.publisher.base import ChannelAccount, PublishRequest, UploadJournal
    from resources.publisher.youtube import YouTubePublisher
    from tests.fakes.publishing import MemoryTokenStore

    base, refresh_token, journal_path, request_json, chunk = sys.argv[1:6]

    class FileJournal(UploadJournal):
        def load(self):
            path = Path(journal_path)
            return json.loads(path.read_text()) if path.exists() else {}

        def save(self, **values):
            merged = {**self.load(), **values}
            tmp = journal_path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(merged, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, journal_path)

    publisher = YouTubePublisher(
        base_url=base, oauth_base_url=base, client_id=sys.argv[6], client_secret=sys.argv[7],
        chunk_size=int(chunk),
    )
    account = ChannelAccount(
        slug="harbour-yt", platform="youtube",
        tokens=MemoryTokenStore(refresh_token=refresh_token),
    )
    publisher.publish(PublishRequest.model_validate_json(request_json), account, FileJournal())
    """
)


def test_a_publication_killed_mid_upload_resumes_and_leaves_exactly_one_video(
    tmp_path: Path,
) -> None:
    video = tmp_path / "short.mp4"
    video.write_bytes(random.Random(7).randbytes(SIZE))
    thumbnail = tmp_path / "short.jpg"
    thumbnail.write_bytes(b"\xff\xd8\xff\xe0" + bytes(500))
    request = PublishRequest(
        content_id="item-9",
        channel="harbour-yt",
        video=video,
        thumbnail=thumbnail,
        title="Killed and resumed",
        description="",
        hashtags=[],
        language="en",
    )
    journal_path = tmp_path / "journal.json"

    with running_fake_youtube() as api:
        refresh_token = api.grant_refresh_token()
        held = api.hold_at(HELD_AT)
        arguments = [api.base, refresh_token, str(journal_path), request.model_dump_json()]
        arguments += [str(CHUNK), CLIENT_ID, CLIENT_SECRET]
        step = subprocess.Popen(
            [sys.executable, "-c", STEP, *arguments],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            assert held.wait(timeout=30), "the upload never reached the hold"
            step.send_signal(signal.SIGKILL)
            assert step.wait(timeout=10) == -signal.SIGKILL
        finally:
            if step.poll() is None:
                step.kill()
        api.release()
        saved = json.loads(journal_path.read_text())
        assert set(saved) == {"session_uri", "session_size"}  # killed before a video existed
        assert api.videos == {}

        journal = MemoryJournal(**saved)
        publisher = YouTubePublisher(
            base_url=api.base,
            oauth_base_url=api.base,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            chunk_size=CHUNK,
        )
        channel = ChannelAccount(
            slug="harbour-yt",
            platform="youtube",
            tokens=MemoryTokenStore(refresh_token=refresh_token),
        )
        receipt = publisher.publish(request, channel, journal)
        publisher.publish(request, channel, journal)  # and once more: reported, not uploaded

        assert len(api.videos) == 1
        stored = api.videos[receipt.platform_id or ""]
        assert stored.sha256 == hashlib.sha256(video.read_bytes()).hexdigest()
        assert journal.values["session_uri"] == saved["session_uri"]
        kept = HELD_AT // CHUNK_UNIT * CHUNK_UNIT
        assert journal.values["resumed_from"] == [kept]
        assert journal.values["bytes_put"] == SIZE - kept
        assert [op for _m, op, _s in api.log].count("videos.insert") == 1
