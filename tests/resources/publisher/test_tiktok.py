"""TikTokPublisher against the fake TikTok (tests/fakes/tiktok.py): creator info first, Direct
Post and inbox, FILE_UPLOAD by the chunk rules and PULL_FROM_URL, the publish_id journalled
before any byte, re-runs that poll or continue instead of posting again, status to the end,
rate limits waited out, 5xx/resets/stalls/bad bodies survived, statistics. TikTok's OAuth v2
is in test_tiktok_oauth.py."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from resources.errors import PublishError, QuotaExhausted
from resources.publisher.base import ChannelAccount, ChannelSettings, PublishRequest
from resources.publisher.tiktok import MIN_CHUNK, TikTokPublisher, choose_privacy, chunk_plan
from resources.publisher.tiktok_api import TikTokError
from tests.fakes.clips import make_mp4
from tests.fakes.faults import malformed_json, rate_limited, reset, stall, unavailable
from tests.fakes.net import running_server
from tests.fakes.publishing import MemoryJournal, MemoryTokenStore
from tests.fakes.server import FakeServer, Reply
from tests.fakes.tiktok import (
    CREATOR_INFO_PATH,
    DIRECT_INIT_PATH,
    INBOX_INIT_PATH,
    MAX_LAST_CHUNK,
    STATUS_PATH,
    UPLOAD_PATH,
    Creator,
    FakeClock,
    FakeTikTok,
    chunk_rule_violation,
    mp4_of_size,
)

CHUNK = MIN_CHUNK  # the smallest chunk TikTok takes keeps the chunked videos small


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 2-second mp4 (a few kB)."""
    path = tmp_path_factory.mktemp("tiktok") / "clip.mp4"
    path.write_bytes(make_mp4(64, 64, 10, 2.0))
    return path


def sized(size: int, folder: Path, seed: int = 1) -> Path:
    """The 2-second clip grown to ``size`` bytes, in ``folder``."""
    path = folder / f"clip-{size}-{seed}.mp4"
    path.write_bytes(mp4_of_size(size, seed))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_publisher(tiktok: FakeTikTok, clock: FakeClock, **config: Any) -> TikTokPublisher:
    settings = {"chunk_size": CHUNK, "poll_interval_s": 1.0, "timeout_s": 5.0, **config}
    return TikTokPublisher(
        client_key=tiktok.client_key,
        client_secret=tiktok.client_secret,
        base_url=tiktok.base_url,
        **settings,
    ).on_clock(clock, clock.sleep)


@pytest.fixture
def publisher(tiktok: FakeTikTok, clock: FakeClock) -> TikTokPublisher:
    return make_publisher(tiktok, clock)


@pytest.fixture
def tokens(tiktok: FakeTikTok) -> MemoryTokenStore:
    """A headless channel: only the refresh token from settings."""
    return MemoryTokenStore(refresh_token=tiktok.grant())


def account(tokens: MemoryTokenStore, **settings: Any) -> ChannelAccount:
    return ChannelAccount(
        slug="ada-tiktok",
        platform="tiktok",
        settings=ChannelSettings(**{"audited": True, "privacy": "public", **settings}),
        tokens=tokens,
    )


def request(video: Path, content_id: str = "item-1", **extra: Any) -> PublishRequest:
    return PublishRequest(
        content_id=content_id,
        channel="ada-tiktok",
        video=video,
        thumbnail=video,
        title="A new harbour",
        description="Two ferry lines and a park.",
        hashtags=["harbour", "#city"],
        language="en",
        **extra,
    )


def init_bodies(server: FakeServer, path: str = DIRECT_INIT_PATH) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in server.hits(path)]


# the whole flow --------------------------------------------------------------------------------


def test_a_direct_post_goes_up_in_chunks_and_ends_published_with_its_post_url(
    publisher: TikTokPublisher,
    tiktok: FakeTikTok,
    tokens: MemoryTokenStore,
    server: FakeServer,
    tmp_path: Path,
) -> None:
    video = sized(2 * CHUNK + 123_456, tmp_path)
    journal = MemoryJournal()

    receipt = publisher.publish(request(video), account(tokens), journal)

    [post] = tiktok.published()
    assert post.sha256 == sha256(video)
    assert [(first, last) for _, first, last in tiktok.upload_puts] == [
        (0, CHUNK - 1),
        (CHUNK, video.stat().st_size - 1),  # the last chunk takes the trailing bytes
    ]
    [body] = init_bodies(server)
    assert body["source_info"] == {
        "source": "FILE_UPLOAD",
        "video_size": video.stat().st_size,
        "chunk_size": CHUNK,
        "total_chunk_count": 2,
    }
    info = body["post_info"]
    assert info["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert info["is_aigc"] is True
    assert info["title"] == "A new harbour\n\nTwo ferry lines and a park.\n\n#harbour #city"
    # creator_info came first, and the publish_id was saved before the first chunk went up
    assert [r.path for r in server.requests[:3]][1:] == [CREATOR_INFO_PATH, DIRECT_INIT_PATH]
    assert journal.saves[0]["publish_id"] == post.publish_id
    assert receipt.platform_id == str(post.post_id)
    assert receipt.url == f"https://www.tiktok.com/@ada.clips/video/{post.post_id}"
    assert journal.values["platform_id"] == str(post.post_id)
    # status was polled through processing to the end
    assert len(server.hits(STATUS_PATH)) == 3


def test_every_upload_put_carries_content_range_and_a_video_type(
    publisher: TikTokPublisher,
    tokens: MemoryTokenStore,
    server: FakeServer,
    tmp_path: Path,
) -> None:
    video = sized(3 * CHUNK, tmp_path)
    publisher.publish(request(video), account(tokens), MemoryJournal())
    puts = server.hits(UPLOAD_PATH)
    assert [p.headers["content-range"] for p in puts] == [
        f"bytes 0-{CHUNK - 1}/{3 * CHUNK}",
        f"bytes {CHUNK}-{2 * CHUNK - 1}/{3 * CHUNK}",
        f"bytes {2 * CHUNK}-{3 * CHUNK - 1}/{3 * CHUNK}",
    ]
    assert {p.headers["content-type"] for p in puts} == {"video/mp4"}
    assert [int(p.headers["content-length"]) for p in puts] == [CHUNK] * 3


def test_a_video_under_5_mb_goes_whole_in_one_chunk(
    publisher: TikTokPublisher,
    tiktok: FakeTikTok,
    tokens: MemoryTokenStore,
    server: FakeServer,
    clip: Path,
) -> None:
    publisher.publish(request(clip), account(tokens), MemoryJournal())
    size = clip.stat().st_size
    assert init_bodies(server)[0]["source_info"]["chunk_size"] == size
    assert tiktok.upload_puts == [(tiktok.published()[0].publish_id, 0, size - 1)]


def test_inbox_mode_uploads_a_draft_without_post_info(
    publisher: TikTokPublisher,
    tiktok: FakeTikTok,
    tokens: MemoryTokenStore,
    server: FakeServer,
    clip: Path,
) -> None:
    journal = MemoryJournal()
    receipt = publisher.publish(request(clip), account(tokens, post_mode="inbox"), journal)
    assert not server.hits(DIRECT_INIT_PATH)
    [body] = init_bodies(server, INBOX_INIT_PATH)
    assert "post_info" not in body
    [post] = tiktok.published()
    assert journal.values["status"] == "SEND_TO_USER_INBOX"
    assert receipt.platform_id == post.publish_id  # a draft has no post id yet
    assert receipt.url == "https://www.tiktok.com/@ada.clips"


def test_pull_from_url_sends_no_bytes_and_tiktok_fetches_the_presigned_url(
    publisher: TikTokPublisher,
    tiktok: FakeTikTok,
    tokens: MemoryTokenStore,
    server: FakeServer,
    clip: Path,
) -> None:
    with running_server() as storage:
        storage.route("/bucket/video.mp4", Reply(body=clip.read_bytes()))
        presigned = storage.url("/bucket/video.mp4?X-Amz-Signature=abc")
        tiktok.verified_url_prefixes = (storage.url("/bucket/"),)
        receipt = publisher.publish(
            request(clip, video_url=presigned),
            account(tokens, tiktok_source="url"),
            MemoryJournal(),
        )
    [body] = init_bodies(server)
    assert body["source_info"] == {"source": "PULL_FROM_URL", "video_url": presigned}
    assert not server.hits(UPLOAD_PATH)
    [post] = tiktok.published()
    assert post.sha256 == sha256(clip)
    assert receipt.platform_id == str(post.post_id)


def test_pull_from_an_unverified_url_is_refused_as_tiktok_says(
    publisher: TikTokPublisher, tokens: MemoryTokenStore, clip: Path
) -> None:
    with pytest.raises(TikTokError) as caught:
        publisher.publish(
            request(clip, video_url="http://127.0.0.1:9/elsewhere.mp4"),
            account(tokens, tiktok_source="url"),
            MemoryJournal(),
        )
    assert caught.value.code == "url_ownership_unverified"
    assert not caught.value.retryable


def test_a_pull_init_whose_answer_is_lost_is_not_repeated(
    publisher: TikTokPublisher,
    tiktok: FakeTikTok,
    tokens: MemoryTokenStore,
    server: FakeServer,
    clip: Path,
) -> None:
    """Repeating it could make two posts: TikTok starts pulling on the init itself."""
    tiktok.verified_url_prefixes = ("http://127.0.0.1",)
    tiktok.inject(DIRECT_INIT_PATH, unavailable(502))
    with pytest.raises(TikTokError) as caught:
        publisher.publish(
            request(clip, video_url="http://127.0.0.1:9/v.mp4"),
            account(tokens, tiktok_source="url"),
            MemoryJournal(),
        )
    assert not caught.value.retryable
    assert len(server.hits(DIRECT_INIT_PATH)) == 1


def test_file_upload_is_used_when_the_storage_gives_no_url(
    publisher: TikTokPublisher, tokens: MemoryTokenStore, server: FakeServer, clip: Path
) -> None:
    publisher.publish(request(clip), account(tokens, tiktok_source="url"), MemoryJournal())
    assert init_bodies(server)[0]["source_info"]["source"] == "FILE_UPLOAD"


# creator info: privacy and duration -------------------------------------------------------------


def test_privacy_is_the_channels_or_the_nearest_more_private_level_the_creator_allows() -> None:
    allowed = ["FOLLOWER_OF_CREATOR", "SELF_ONLY"]
    assert choose_privacy("PUBLIC_TO_EVERYONE", allowed) == "FOLLOWER_OF_CREATOR"
    assert choose_privacy("MUTUAL_FOLLOW_FRIENDS", allowed) == "SELF_ONLY"
    with pytest.raises(PublishError, match="none is as private as SELF_ONLY"):
        choose_privacy("SELF_ONLY", ["PUBLIC_TO_EVERYONE"])


def test_an_unaudited_client_posts_self_only(
    publisher: TikTokPublisher, tokens: MemoryTokenStore, server: FakeServer, clip: Path
) -> None:
    publisher.publish(request(clip), account(tokens, audited=False), MemoryJournal())
    assert init_bodies(server)[0]["post_info"]["privacy_level"] == "SELF_ONLY"


def test_privacy_follows_the_creators_allowed_options(
    publisher: TikTokPublisher,
    tiktok: FakeTikTok,
    tokens: MemoryTokenStore,
    server: FakeServer,
    clip: Path,
) -> None:
    tiktok.creator.privacy_level_options = ["MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    publisher.publish(request(clip), account(tokens), MemoryJournal())
    assert init_bodies(server)[0]["post_info"]["privacy_level"] == "MUTUAL_FOLLOW_FRIENDS"


def test_a_video_longer_than_the_creator_may_post_is_refused_before_any_init(
    server: FakeServer,
    tokens: MemoryTokenStore,
    publisher: TikTokPublisher,
    tiktok: FakeTikTok,
    clip: Path,
) -> None:
    tiktok.creator.max_video_post_duration_sec = 1
    with pytest.raises(PublishError, match=r"2\.0 s long; this creator may post at most 1 s"):
        publisher.publish(request(clip), account(tokens), MemoryJournal())
    assert not server.hits(DIRECT_INIT_PATH)


def test_the_creators_disabled_interactions_are_kept_disabled(
    publisher: TikTokPublisher,
    tiktok: FakeTikTok,
    tokens: MemoryTokenStore,
    server: FakeServer,
    clip: Path,
) -> None:
    tiktok.creator = Creator(comment_disabled=True, stitch_disabled=True)
    publisher.publish(request(clip), account(tokens), MemoryJournal())
    info = init_bodies(server)[0]["post_info"]
    assert (info["disable_comment"], info["disable_duet"], info["disable_stitch"]) == (
        True,
        False,
        True,
    )


# chunk rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size",
    [
        1,
        MIN_CHUNK - 1,
        MIN_CHUNK,
        19_999_999,
        20_000_000,
        50_000_123,
        64_000_000,
        64 * 1024 * 1024 + 1,
        128 * 1024 * 1024 + 7,
        1_000_000_000,
        4 * 1024**3,
        20 * 1024**3,
    ],
)
def test_the_chunk_plan_keeps_the_media_transfer_rules(size: int) -> None:
    plan = chunk_plan(size)
    assert chunk_rule_violation(plan.video_size, plan.chunk_size, plan.total_chunk_count) == ""
    first, last = plan.byte_range(plan.total_chunk_count - 1)
    assert last == size - 1
    assert last - first + 1 <= MAX_LAST_CHUNK


def test_the_documented_example_50000123_bytes_in_10_mb_chunks_is_5_chunks() -> None:
    plan = chunk_plan(50_000_123, 10_000_000)
    assert (plan.chunk_size, plan.total_chunk_count) == (10_000_000, 5)
    assert plan.byte_range(4) == (40_000_000, 50_000_122)


@pytest.mark.parametrize(
    ("source_info", "problem"),
    [
        ({"video_size": 4_000_000, "chunk_size": 2_000_000, "total_chunk_count": 2}, "whole"),
        ({"video_size": 30 * 2**20, "chunk_size": 4 * 2**20, "total_chunk_count": 7}, "5 MB"),
        ({"video_size": 30 * 2**20, "chunk_size": 10 * 2**20, "total_chunk_count": 2}, "rounded"),
        ({"video_size": 100 * 2**20, "chunk_size": 100 * 2**20, "total_chunk_count": 1}, "64 MB"),
        ({"video_size": 12 * 2**20, "chunk_size": 6 * 2**20}, "required"),
    ],
)
def test_the_fake_refuses_an_init_breaking_the_chunk_rules_as_invalid_param(
    publisher: TikTokPublisher,
    tokens: MemoryTokenStore,
    source_info: dict[str, int],
    problem: str,
) -> None:
    api = publisher.api(tokens)
    with pytest.raises(TikTokError, match=problem) as caught:
        api.call(
            DIRECT_INIT_PATH,
            {
                "source_info": {"source": "FILE_UPLOAD", **source_info},
                "post_info": {"privacy_level": "SELF_ONLY", "title": "t"},
            },
        )
    assert caught.value.code == "invalid_param"
    assert "HTTP 400" in str(caught.value)


def test_the_fake_answers_chunks_out_of_order_bad_headers_and_expired_urls_as_documented(
    publisher: TikTokPublisher, tokens: MemoryTokenStore, clock: FakeClock
) -> None:
    api = publisher.api(tokens)
    size = 2 * CHUNK
    data = api.call(
        DIRECT_INIT_PATH,
        {
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": size,
                "chunk_size": CHUNK,
                "total_chunk_count": 2,
            },
            "post_info": {"privacy_level": "SELF_ONLY", "title": "t"},
        },
    )
    url, chunk = data["upload_url"], b"x" * CHUNK
    assert api.put_chunk(url, chunk, CHUNK, size - 1, size) == 416  # the second chunk first
    first_range = {"Content-Range": f"bytes 0-{CHUNK - 1}/{size}"}
    assert api.http.put(url, content=chunk, headers=first_range).status_code == 400  # no type
    bad_range = api.http.put(
        url, content=chunk, headers={"Content-Type": "video/mp4", "Content-Range": "0-1"}
    )
    assert bad_range.status_code == 400
    assert api.put_chunk(url, chunk, 0, CHUNK - 1, size) == 206
    clock.sleep(3601)  # the access token outlives the hour; the upload URL does not
    assert api.put_chunk(url, chunk, CHUNK, size - 1, size) == 403


# exactly once -----------------------------------------------------------------------------------


def test_a_rerun_with_a_journalled_publish_id_polls_instead_of_posting_again(
    publisher: TikTokPublisher,
    tiktok: FakeTikTok,
    tokens: MemoryTokenStore,
    server: FakeServer,
    clip: Path,
) -> None:
    journal = MemoryJournal()
    tiktok.inject(STATUS_PATH, *[unavailable()] * 5)  # the first attempt never sees the end
    with pytest.raises(TikTokError):
        publisher.publish(request(clip), account(tokens), journal)
    assert journal.values["publish_id"]
    assert "platform_id" not in journal.values

    receipt = publisher.publish(request(clip), account(tokens), journal)

    assert len(server.hits(DIRECT_INIT_PATH)) == 1
    assert len(tiktok.upload_puts) == 1
    [post] = tiktok.published()
    assert receipt.platform_id == str(post.post_id)


def test_a_published_item_is_reported_from_the_journal_without_asking_tiktok(
    publisher: TikTokPublisher, tokens: MemoryTokenStore, server: FakeServer, clip: Path
) -> None:
    journal = MemoryJournal()
    first = publisher.publish(request(clip), account(tokens), journal)
    seen = len(server.requests)
    again = publisher.publish(request(clip), account(tokens), journal)
    assert again == first
    assert len(server.requests) == seen


def test_an_upload_cut_mid_way_continues_from_the_chunk_tiktok_lacks(
    publisher: TikTokPublisher,
    tiktok: FakeTikTok,
    tokens: MemoryTokenStore,
    tmp_path: Path,
) -> None:
    video = sized(3 * CHUNK + 99, tmp_path)
    journal = MemoryJournal()
    tiktok.upload_faults[1] = [reset()] * publisher.attempts  # the second chunk never gets in
    with pytest.raises(TikTokError, match="upload: connection failed"):
        publisher.publish(request(video), account(tokens), journal)

    publisher.publish(request(video), account(tokens), journal)

    [post] = tiktok.published()
    assert post.sha256 == sha256(video)
    assert [first for _, first, _ in tiktok.upload_puts] == [0, CHUNK, 2 * CHUNK]  # none twice
    assert len(tiktok.posts) == 1


def test_a_chunk_whose_answer_was_lost_is_not_sent_twice(
    publisher: TikTokPublisher,
    tiktok: FakeTikTok,
    tokens: MemoryTokenStore,
    tmp_path: Path,
) -> None:
    """The chunk arrived, its answer did not: resent, TikTok answers 416, and the upload goes
    on from the bytes status/fetch says TikTok holds."""
    video = sized(3 * CHUNK, tmp_path)
    tiktok.lost_answers.add(1)
    publisher.publish(request(video), account(tokens), MemoryJournal())
    [post] = tiktok.published()
    assert post.sha256 == sha256(video)
    assert [first for _, first, _ in tiktok.upload_puts] == [0, CHUNK, 2 * CHUNK]


def test_a_failed_publish_reports_tiktoks_reason_and_frees_the_item_for_a_new_post(
    publisher: TikTokPublisher,
    tiktok: FakeTikTok,
    tokens: MemoryTokenStore,
    clip: Path,
) -> None:
    journal = MemoryJournal()
    tiktok.fail_next_post = "picture_size_check_failed"
    with pytest.raises(TikTokError, match="picture_size_check_failed") as caught:
        publisher.publish(request(clip), account(tokens), journal)
    assert not caught.value.retryable
    failed = journal.values["failed_publish_ids"]
    assert journal.values["publish_id"] is None
    assert len(failed) == 1

    receipt = publisher.publish(request(clip), account(tokens), journal)

    assert receipt.platform_id
    assert journal.values["failed_publish_ids"] == failed
    assert len(tiktok.posts) == 2


def test_a_publish_still_processing_at_the_deadline_is_retryable_and_keeps_its_id(
    tiktok: FakeTikTok, clock: FakeClock, tokens: MemoryTokenStore, clip: Path
) -> None:
    tiktok.processing_polls = 10_000
    journal = MemoryJournal()
    publisher = make_publisher(tiktok, clock, poll_timeout_s=20.0)
    with pytest.raises(TikTokError, match="still PROCESSING_UPLOAD after 20 s") as caught:
        publisher.publish(request(clip), account(tokens), journal)
    assert caught.value.retryable
    assert journal.values["publish_id"]


_CHILD = f"""
import sys
from pathlib import Path
from resources.publisher.tiktok import TikTokPublisher
from resources.publisher.base import ChannelAccount, ChannelSettings, PublishRequest
from tests.fakes.publishing import MemoryTokenStore
from tests.resources.publisher.test_tiktok import FileJournal

base, key, secret, refresh, video, journal = sys.argv[1:]
publisher = TikTokPublisher(client_key=key, client_secret=secret, base_url=base, chunk_size={CHUNK})
account = ChannelAccount(slug="ada-tiktok", platform="tiktok",
    settings=ChannelSettings(audited=True, privacy="public"),
    tokens=MemoryTokenStore(refresh_token=refresh))
req = PublishRequest(content_id="item-1", channel="ada-tiktok", video=Path(video),
    thumbnail=Path(video), title="t", description="d", hashtags=[], language="en")
publisher.publish(req, account, FileJournal(Path(journal)))
"""


class FileJournal(MemoryJournal):
    """A journal in a JSON file (written atomically), as durable as a process kill needs."""

    def __init__(self, path: Path) -> None:
        super().__init__(**(json.loads(path.read_text()) if path.exists() else {}))
        self.path = path

    def save(self, **values: Any) -> None:
        super().save(**values)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.values))
        os.replace(tmp, self.path)


def test_a_process_killed_mid_upload_and_run_again_makes_exactly_one_video(tmp_path: Path) -> None:
    video = sized(3 * CHUNK, tmp_path)
    journal_path = tmp_path / "journal.json"
    with running_server() as server:
        tiktok = FakeTikTok(server, processing_polls=0)
        store = MemoryTokenStore(refresh_token=tiktok.grant())
        # the child holds the only refresh token: it renews for itself, so ours comes fresh
        child_refresh = tiktok.grant()
        tiktok.upload_faults[1] = [stall(60)]  # the second chunk hangs: kill the process then
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, server.base, tiktok.client_key,
             tiktok.client_secret, child_refresh, str(video), str(journal_path)],
            env=env,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while len(server.hits(UPLOAD_PATH)) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(tiktok.upload_puts) == 1, "the child should hang on its second chunk"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
        assert json.loads(journal_path.read_text())["publish_id"]

        publisher = TikTokPublisher(
            client_key=tiktok.client_key,
            client_secret=tiktok.client_secret,
            base_url=server.base,
            chunk_size=CHUNK,
            poll_interval_s=0.01,
        )
        receipt = publisher.publish(request(video), account(store), FileJournal(journal_path))

        assert len(tiktok.posts) == 1
        [post] = tiktok.published()
        assert post.sha256 == sha256(video)
        assert [first for _, first, _ in tiktok.upload_puts] == [0, CHUNK, 2 * CHUNK]
        assert receipt.platform_id == str(post.post_id)


# rate limits and faults -------------------------------------------------------------------------


def test_a_rate_limit_with_retry_after_is_waited_out_not_failed(
    publisher: TikTokPublisher,
    tiktok: FakeTikTok,
    tokens: MemoryTokenStore,
    clock: FakeClock,
    clip: Path,
) -> None:
    tiktok.inject(DIRECT_INIT_PATH, rate_limited(7, b'{"error":{"code":"rate_limit_exceeded"}}'))
    publisher.publish(request(clip), account(tokens), MemoryJournal())
    assert 7.0 in clock.slept
    assert len(tiktok.published()) == 1


def test_the_seventh_init_in_a_minute_waits_for_tiktoks_window(
    publisher: TikTokPublisher,
    tiktok: FakeTikTok,
    tokens: MemoryTokenStore,
    server: FakeServer,
    clock: FakeClock,
    clip: Path,
) -> None:
    """TikTok allows 6 inits a minute per user token and says so with a 429 and no
    Retry-After: the publisher backs off until the minute has passed."""
    tiktok.processing_polls = 0
    start = clock()
    for n in range(7):
        publisher.publish(request(clip, f"item-{n}"), account(tokens), MemoryJournal())
    assert len(tiktok.published()) == 7
    assert len(server.hits(DIRECT_INIT_PATH)) > 7  # the seventh refused, then let through
    assert clock() - start >= 60


def test_a_rate_limit_past_the_waiting_budget_is_quota_exhausted_with_a_retry_after(
    tiktok: FakeTikTok, clock: FakeClock, tokens: MemoryTokenStore, clip: Path
) -> None:
    tiktok.inject(CREATOR_INFO_PATH, *[rate_limited(30)] * 10)
    limited = make_publisher(tiktok, clock, max_wait_s=60.0)
    with pytest.raises(QuotaExhausted) as caught:
        limited.publish(request(clip), account(tokens), MemoryJournal())
    assert caught.value.retryable
    assert caught.value.retry_after == 30


def test_the_daily_post_cap_is_quota_exhausted_not_a_failure(
    publisher: TikTokPublisher, tiktok: FakeTikTok, tokens: MemoryTokenStore, clip: Path
) -> None:
    tiktok.daily_post_cap = 1
    publisher.publish(request(clip, "item-1"), account(tokens), MemoryJournal())
    with pytest.raises(QuotaExhausted, match="spam_risk_too_many_posts") as caught:
        publisher.publish(request(clip, "item-2"), account(tokens), MemoryJournal())
    assert caught.value.retry_after == 3600


@pytest.mark.parametrize(
    ("endpoint", "faults"),
    [
        (CREATOR_INFO_PATH, [unavailable(), unavailable(500), malformed_json()]),
        (DIRECT_INIT_PATH, [unavailable(), reset()]),
        (STATUS_PATH, [malformed_json(), unavailable(504), reset()]),
        (UPLOAD_PATH, [unavailable(), reset(), unavailable(502)]),
    ],
)
def test_passing_faults_are_tried_again_and_still_make_one_video(
    publisher: TikTokPublisher,
    tiktok: FakeTikTok,
    tokens: MemoryTokenStore,
    clip: Path,
    endpoint: str,
    faults: list[Reply],
) -> None:
    tiktok.inject(endpoint, *faults)
    publisher.publish(request(clip), account(tokens), MemoryJournal())
    [post] = tiktok.published()
    assert post.sha256 == sha256(clip)
    assert len(tiktok.posts) == 1


def test_a_stalled_answer_times_out_and_is_asked_again(
    tiktok: FakeTikTok, clock: FakeClock, tokens: MemoryTokenStore, clip: Path
) -> None:
    quick = make_publisher(tiktok, clock, timeout_s=0.3)
    tiktok.inject(STATUS_PATH, stall(1.0))
    quick.publish(request(clip), account(tokens), MemoryJournal())
    assert len(tiktok.published()) == 1


def test_an_error_tiktok_will_not_change_its_mind_about_fails_at_once_with_its_log_id(
    publisher: TikTokPublisher, tiktok: FakeTikTok, tokens: MemoryTokenStore, clip: Path
) -> None:
    tiktok.creator.privacy_level_options = ["PUBLIC_TO_EVERYONE"]
    tiktok.inject(
        DIRECT_INIT_PATH,
        Reply(
            status=403,
            body=b'{"error":{"code":"spam_risk_user_banned_from_posting","message":"banned",'
            b'"log_id":"LOG123"}}',
        ),
    )
    with pytest.raises(TikTokError, match="log_id LOG123") as caught:
        publisher.publish(request(clip), account(tokens), MemoryJournal())
    assert caught.value.code == "spam_risk_user_banned_from_posting"
    assert not caught.value.retryable


# statistics -------------------------------------------------------------------------------------


def test_video_stats_come_from_video_query_for_the_public_post(
    publisher: TikTokPublisher, tokens: MemoryTokenStore, clip: Path
) -> None:
    receipt = publisher.publish(request(clip), account(tokens), MemoryJournal())
    stats = publisher.video_stats("item-1", receipt, account(tokens))
    assert (stats.views, stats.likes, stats.comments, stats.shares) == (1200, 87, 9, 4)
    assert stats.url == receipt.url


def test_a_private_post_has_no_stats_and_says_why(
    publisher: TikTokPublisher, tokens: MemoryTokenStore, clip: Path
) -> None:
    receipt = publisher.publish(request(clip), account(tokens, audited=False), MemoryJournal())
    with pytest.raises(PublishError, match="no public post"):
        publisher.video_stats("item-1", receipt, account(tokens))
