"""YouTubePublisher against the fake YouTube: the resumable upload and its faults, tokens,
quota, exactly-once with the journal, metadata and statistics."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from resources.errors import PublishError, QuotaExhausted, ReconnectRequired
from resources.publisher.base import ChannelAccount, ChannelSettings, OAuthTokens, PublishRequest
from resources.publisher.google_oauth import GoogleOAuth
from resources.publisher.youtube import CHUNK_UNIT, YouTubePublisher
from tests.fakes.faults import malformed_json, rate_limited, reset, stall, unavailable
from tests.fakes.fixtures import _loopback_only  # noqa: F401  (autouse: loopback only)
from tests.fakes.publishing import MemoryJournal, MemoryQuota, MemoryTokenStore
from tests.fakes.youtube_api import (
    CLIENT_ID,
    CLIENT_SECRET,
    FakeClock,
    FakeYouTubeAPI,
    google_error,
    running_fake_youtube,
)

CHUNK = 2 * CHUNK_UNIT
SIZE = 6 * CHUNK + 12_345  # a last chunk that is not a whole unit
START = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # 10:00 in Los Angeles


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("youtube")
    video = folder / "short.mp4"
    video.write_bytes(random.Random(19).randbytes(SIZE))
    thumbnail = folder / "short.jpg"
    thumbnail.write_bytes(b"\xff\xd8\xff\xe0" + bytes(2000))
    return video, thumbnail


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def api(clock: FakeClock) -> Iterator[FakeYouTubeAPI]:
    with running_fake_youtube(clock=clock) as fake:
        yield fake


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def publisher(api: FakeYouTubeAPI, clock: FakeClock, waits: list[float]) -> YouTubePublisher:
    return publisher_for(api, clock, waits)


def publisher_for(
    api: FakeYouTubeAPI, clock: FakeClock, waits: list[float], **config: Any
) -> YouTubePublisher:
    options = {"chunk_size": CHUNK, "timeout_s": 2.0, "attempts": 4, **config}
    return YouTubePublisher(
        base_url=api.base,
        oauth_base_url=api.base,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        **options,
    ).waiting_with(waits.append, clock.now)


def account(
    api: FakeYouTubeAPI, *, tokens: MemoryTokenStore | None = None, **settings: Any
) -> ChannelAccount:
    return ChannelAccount(
        slug="harbour-yt",
        platform="youtube",
        settings=ChannelSettings(**settings),
        tokens=tokens or MemoryTokenStore(refresh_token=api.grant_refresh_token()),
    )


def request(media: tuple[Path, Path], **overrides: Any) -> PublishRequest:
    video, thumbnail = media
    fields: dict[str, Any] = {
        "content_id": "item-1",
        "channel": "harbour-yt",
        "video": video,
        "thumbnail": thumbnail,
        "title": "A new harbour",
        "description": "Two ferry lines and a park. #harbour",
        "hashtags": ["#harbour", "#city news"],
        "language": "ko",
        **overrides,
    }
    return PublishRequest(**fields)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def only_video(api: FakeYouTubeAPI) -> Any:
    assert len(api.videos) == 1, f"{len(api.videos)} videos on the fake channel"
    return next(iter(api.videos.values()))


def test_a_video_is_uploaded_with_its_metadata_thumbnail_and_exact_bytes(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path]
) -> None:
    journal = MemoryJournal()

    receipt = publisher.publish(request(media), account(api), journal)

    video = only_video(api)
    assert video.sha256 == sha256(media[0])
    assert video.thumbnail == media[1].read_bytes()
    assert receipt.platform_id == video.id
    assert receipt.url == f"https://www.youtube.com/watch?v={video.id}"
    assert receipt.published_at == START
    snippet, status = video.resource["snippet"], video.resource["status"]
    assert snippet["title"] == "A new harbour"
    assert snippet["description"] == "Two ferry lines and a park. #harbour"
    assert snippet["tags"] == ["harbour", "city news"]
    assert snippet["categoryId"] == "22"
    assert snippet["defaultLanguage"] == snippet["defaultAudioLanguage"] == "ko"
    assert status["privacyStatus"] == "private"  # unaudited by default
    assert status["selfDeclaredMadeForKids"] is False
    assert status["containsSyntheticMedia"] is True
    assert journal.values["platform_id"] == video.id
    assert journal.values["thumbnail"] == "set"
    assert journal.values["resumed_from"] == []
    assert journal.values["bytes_put"] == SIZE


def test_the_session_uri_is_saved_before_the_first_byte_is_sent(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path]
) -> None:
    seen: list[tuple[dict[str, Any], int, int]] = []

    class WatchingJournal(MemoryJournal):
        def save(self, **values: Any) -> None:
            puts = sum(1 for method, _op, _status in api.log if method == "PUT")
            seen.append((values, puts, api.upload_bytes_received))
            super().save(**values)

    publisher.publish(request(media), account(api), WatchingJournal())

    first_values, puts_before, bytes_before = seen[0]
    assert "session_uri" in first_values
    assert "upload_id=" in first_values["session_uri"]
    assert (puts_before, bytes_before) == (0, 0)


def test_chunks_are_whole_256_kib_units_except_the_last(
    api: FakeYouTubeAPI, clock: FakeClock, waits: list[float], media: tuple[Path, Path]
) -> None:
    with pytest.raises(ValueError, match="multiple of 262144"):
        publisher_for(api, clock, waits, chunk_size=300 * 1024)
    publisher = publisher_for(api, clock, waits, chunk_size=CHUNK_UNIT)

    publisher.publish(request(media), account(api), MemoryJournal())

    puts = [entry for entry in api.log if entry[0] == "PUT"]
    assert len(puts) == -(-SIZE // CHUNK_UNIT)  # the fake refuses a chunk that breaks the rule
    assert only_video(api).sha256 == sha256(media[0])


def test_an_upload_cut_at_random_bytes_resumes_each_time_and_arrives_whole(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path]
) -> None:
    rng = random.Random(20261206)
    cuts = sorted(rng.sample(range(1, SIZE), 5))
    api.cut_at(*cuts)
    journal = MemoryJournal()

    publisher.publish(request(media), account(api), journal)

    assert only_video(api).sha256 == sha256(media[0])
    assert api.cuts == cuts
    resumed = journal.values["resumed_from"]
    # after each cut the upload goes on from what Google kept: whole 256 KiB units
    assert len(resumed) == len(cuts)
    assert all(
        offset % CHUNK_UNIT == 0 and offset <= cut
        for offset, cut in zip(resumed, cuts, strict=True)
    )
    # what crossed the wire twice: per cut, less than the 256 KiB unit Google did not keep
    twice = api.upload_bytes_received - SIZE
    assert 0 < twice < len(cuts) * CHUNK_UNIT
    assert journal.values["bytes_put"] <= SIZE + len(cuts) * CHUNK
    print(
        f"\ncut at {cuts}; resumed from {resumed}; bytes put {journal.values['bytes_put']} "
        f"for {SIZE}; bytes that reached the fake twice: {twice}"
    )


def test_cuts_in_every_chunk_do_not_spend_the_retry_budget_while_google_keeps_more(
    api: FakeYouTubeAPI, clock: FakeClock, waits: list[float], media: tuple[Path, Path]
) -> None:
    publisher = publisher_for(api, clock, waits, attempts=2)
    # each cut lands in the chunk sent after the previous resume, yet Google keeps more
    api.cut_at(300_000, 600_000, 900_000, 1_200_000)

    publisher.publish(request(media), account(api), MemoryJournal())

    assert only_video(api).sha256 == sha256(media[0])
    assert len(waits) == 4
    assert all(wait <= publisher.backoff_base_s for wait in waits)  # never a second step


def test_a_503_storm_is_waited_out_with_growing_bounded_back_off(
    api: FakeYouTubeAPI,
    clock: FakeClock,
    waits: list[float],
    media: tuple[Path, Path],
) -> None:
    publisher = publisher_for(api, clock, waits, attempts=6, backoff_cap_s=3.0)
    api.inject(
        "upload", unavailable(503), unavailable(502), unavailable(500), unavailable(504), reset()
    )

    publisher.publish(request(media), account(api), MemoryJournal())

    assert only_video(api).sha256 == sha256(media[0])
    assert len(waits) == 5  # one per failed PUT, then bytes got through
    assert waits[0] < waits[1] < waits[2]
    assert all(wait <= 3.0 for wait in waits)


def test_an_attempt_that_failed_mid_upload_is_resumed_by_the_next_one(
    api: FakeYouTubeAPI,
    clock: FakeClock,
    waits: list[float],
    publisher: YouTubePublisher,
    media: tuple[Path, Path],
) -> None:
    journal = MemoryJournal()
    api.cut_at(3 * CHUNK + 1000)
    impatient = publisher_for(api, clock, waits, attempts=1)  # gives up at the first failure

    with pytest.raises(PublishError) as cut:
        impatient.publish(request(media), account(api), journal)
    assert cut.value.retryable
    assert api.videos == {}
    session = journal.values["session_uri"]

    publisher.publish(request(media), account(api), journal)  # the step's retry

    assert only_video(api).sha256 == sha256(media[0])
    assert journal.values["session_uri"] == session  # the same session, resumed
    assert journal.values["resumed_from"] == [3 * CHUNK]
    assert journal.values["bytes_put"] == SIZE - 3 * CHUNK
    assert [op for _m, op, _s in api.log].count("videos.insert") == 1


def test_a_session_google_forgot_is_replaced_by_a_new_one(
    api: FakeYouTubeAPI,
    clock: FakeClock,
    waits: list[float],
    publisher: YouTubePublisher,
    media: tuple[Path, Path],
) -> None:
    impatient = publisher_for(api, clock, waits, attempts=1)
    for status in (404, 410):
        api.videos.clear()
        journal = MemoryJournal()
        api.cut_at(2 * CHUNK + 5)
        with pytest.raises(PublishError):
            impatient.publish(request(media), account(api), journal)
        old = journal.values["session_uri"]
        api.expire_session(old.rsplit("upload_id=", 1)[1], status=status)

        publisher.publish(request(media), account(api), journal)

        assert journal.values["session_uri"] != old
        assert journal.values["bytes_put"] == SIZE  # all of it again, in the new session
        assert only_video(api).sha256 == sha256(media[0])


def test_a_lost_answer_to_the_last_chunk_finds_the_video_instead_of_uploading_again(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path]
) -> None:
    api.lose_answer("upload", 201)  # YouTube made the video; the client never heard
    journal = MemoryJournal()

    receipt = publisher.publish(request(media), account(api), journal)

    assert receipt.platform_id == only_video(api).id
    assert only_video(api).sha256 == sha256(media[0])
    assert journal.values["bytes_put"] == SIZE  # found by asking, not by sending again


def test_a_lost_session_answer_starts_another_session_and_still_makes_one_video(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path]
) -> None:
    api.lose_answer("videos.insert", 200)

    publisher.publish(request(media), account(api), MemoryJournal())

    assert len(api.sessions) == 2  # the first one never gets a byte
    assert only_video(api).sha256 == sha256(media[0])


def test_a_published_item_is_reported_again_without_another_upload(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path]
) -> None:
    journal = MemoryJournal()
    first = publisher.publish(request(media), account(api), journal)
    calls = len(api.log)

    again = publisher.publish(request(media), account(api), journal)

    assert again.platform_id == first.platform_id
    assert again.url == first.url
    assert len(api.videos) == 1
    assert api.log[calls:] == []  # not even a token request


def test_an_expired_access_token_is_refreshed_under_the_lock_before_the_upload(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path], clock: FakeClock
) -> None:
    refresh_token = api.grant_refresh_token()
    tokens = CountingTokenStore(
        access_token="ya29.old", refresh_token=refresh_token, expires_at=START
    )

    publisher.publish(request(media), account(api, tokens=tokens), MemoryJournal())

    assert tokens.locked == 1
    assert tokens.saved[0].refresh_token == refresh_token  # Google's refresh has none: kept
    assert tokens.saved[0].expires_at == START + timedelta(seconds=3599)
    assert [op for _m, op, status in api.log if status == 401] == []


def test_a_401_refreshes_the_token_and_the_upload_goes_on(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path]
) -> None:
    tokens = CountingTokenStore(
        access_token="ya29.revoked-by-google",
        refresh_token=api.grant_refresh_token(),
        expires_at=START + timedelta(hours=1),
    )
    api.inject(
        "upload",
        google_error(401, "authError", "Request had invalid authentication credentials.", "global"),
    )

    publisher.publish(request(media), account(api, tokens=tokens), MemoryJournal())

    assert only_video(api).sha256 == sha256(media[0])
    refused = [op for _m, op, status in api.log if status == 401]
    assert refused == ["videos.insert", "upload"]  # the unknown token, then one mid-upload
    assert tokens.locked == 2
    assert len(tokens.saved) == 2


def test_a_token_another_run_refreshed_meanwhile_is_used_without_refreshing_again(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path]
) -> None:
    oauth = GoogleOAuth(base_url=api.base, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    refreshed_elsewhere = oauth.refresh(api.grant_refresh_token())
    tokens = CountingTokenStore(
        access_token="ya29.stale", refresh_token="1//spent", expires_at=START
    )
    # the other run held the lock first, refreshed and stored its token
    tokens.on_lock = lambda: tokens.save(
        access_token=refreshed_elsewhere.access_token,
        refresh_token=None,
        expires_at=refreshed_elsewhere.expires_at,
    )

    publisher.publish(request(media), account(api, tokens=tokens), MemoryJournal())

    assert only_video(api).sha256 == sha256(media[0])
    assert [r for r in api.token_requests if r.get("refresh_token") == "1//spent"] == []
    assert tokens.locked == 1


def test_a_revoked_grant_makes_the_channel_reconnect_required_and_uploads_nothing(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path], waits: list[float]
) -> None:
    refresh_token = api.grant_refresh_token()
    api.revoke(refresh_token)
    tokens = MemoryTokenStore(refresh_token=refresh_token)
    journal = MemoryJournal()

    with pytest.raises(ReconnectRequired) as gone:
        publisher.publish(request(media), account(api, tokens=tokens), journal)

    assert not gone.value.retryable
    assert len(tokens.reconnect_reasons) == 1
    assert "invalid_grant" in tokens.reconnect_reasons[0]
    assert refresh_token not in str(gone.value)
    assert journal.values == {}
    assert api.sessions == {}
    assert waits == []


def test_quota_exceeded_waits_until_pacific_midnight_then_publishes(
    clock: FakeClock, waits: list[float], media: tuple[Path, Path]
) -> None:
    with running_fake_youtube(clock=clock, daily_units=1000) as api:  # an insert costs 1600
        publisher = publisher_for(api, clock, waits)
        channel = account(api)
        journal = MemoryJournal()

        with pytest.raises(QuotaExhausted) as wait:
            publisher.publish(request(media), channel, journal)

        midnight = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # 00:00 PST
        assert wait.value.until == midnight
        assert wait.value.retry_after == (midnight - START).total_seconds()
        assert wait.value.retryable
        assert journal.values == {}
        assert waits == []  # not retried within the step

        clock.advance(midnight - START)
        api.daily_units = 10_000  # a new day, and a quota that fits an upload
        publisher.publish(request(media), channel, journal)
        assert only_video(api).sha256 == sha256(media[0])


def test_quota_exceeded_tells_the_accounts_ledger_which_sets_the_wait(
    media: tuple[Path, Path], clock: FakeClock, waits: list[float]
) -> None:
    with running_fake_youtube(clock=clock, daily_units=1000) as api:
        ledger = MemoryQuota(wait_s=1234.0)
        channel = ChannelAccount(
            slug="harbour-yt",
            platform="youtube",
            tokens=MemoryTokenStore(refresh_token=api.grant_refresh_token()),
            quota=ledger,
        )

        with pytest.raises(QuotaExhausted) as wait:
            publisher_for(api, clock, waits).publish(request(media), channel, MemoryJournal())

    assert wait.value.retry_after == 1234.0
    assert ledger.limits["videos.insert"] == ledger.spent["videos.insert"] == 1


def test_a_spent_ledger_stops_the_upload_before_youtube_is_asked(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path]
) -> None:
    channel = ChannelAccount(
        slug="harbour-yt",
        platform="youtube",
        tokens=MemoryTokenStore(refresh_token=api.grant_refresh_token()),
        quota=MemoryQuota({"videos.insert": 0}),
    )

    with pytest.raises(QuotaExhausted):
        publisher.publish(request(media), channel, MemoryJournal())

    assert [op for _m, op, _s in api.log if op == "videos.insert"] == []


def test_a_per_second_rate_limit_is_retried_not_taken_for_the_daily_quota(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path], waits: list[float]
) -> None:
    api.inject(
        "videos.insert",
        google_error(403, "rateLimitExceeded", "Rate limit exceeded.", "usageLimits"),
        google_error(403, "userRateLimitExceeded", "User rate limit exceeded.", "usageLimits"),
    )

    publisher.publish(request(media), account(api), MemoryJournal())

    assert only_video(api).sha256 == sha256(media[0])
    assert len(waits) == 2


def test_the_channels_daily_upload_limit_waits_a_day(
    clock: FakeClock, waits: list[float], media: tuple[Path, Path]
) -> None:
    with running_fake_youtube(clock=clock, channel_daily_uploads=0) as api:
        with pytest.raises(QuotaExhausted) as wait:
            publisher_for(api, clock, waits).publish(request(media), account(api), MemoryJournal())

    assert wait.value.retry_after == 24 * 3600
    assert "uploadLimitExceeded" in str(wait.value)


def test_privacy_follows_the_channel_setting_only_when_the_project_is_audited(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path]
) -> None:
    later = START + timedelta(days=2)
    cases = [
        ({"privacy": "public", "audited": False}, {}, "private", None),
        ({"privacy": "public", "audited": True}, {}, "public", None),
        ({"privacy": "unlisted", "audited": True}, {}, "unlisted", None),
        ({"privacy": "public", "audited": True}, {"publish_at": later}, "private",
         "2026-03-04T18:00:00Z"),
        ({"privacy": "public", "audited": False}, {"publish_at": later}, "private", None),
    ]  # fmt: skip
    for settings, extra, privacy, publish_at in cases:
        api.videos.clear()
        publisher.publish(
            request(media, **extra), account(api, made_for_kids=True, **settings), MemoryJournal()
        )
        status = only_video(api).resource["status"]
        assert status["privacyStatus"] == privacy, settings
        assert status.get("publishAt") == publish_at, settings
        assert status["selfDeclaredMadeForKids"] is True


def test_metadata_is_fitted_to_youtubes_limits_instead_of_being_refused(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path]
) -> None:
    publisher.publish(
        request(
            media,
            title="<Breaking> " + "harbour " * 30,
            description="a < b > c " + "é" * 3000,
            hashtags=[f"#tag{i:03d}" for i in range(100)],
        ),
        account(api),
        MemoryJournal(),
    )

    snippet = only_video(api).resource["snippet"]
    assert len(snippet["title"]) == 100
    assert snippet["title"].startswith("‹Breaking›")
    assert len(snippet["description"].encode()) <= 5000
    assert "<" not in snippet["description"]
    assert sum(len(t) for t in snippet["tags"]) + len(snippet["tags"]) - 1 <= 500


def test_a_refused_request_fails_at_once_with_googles_reason(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path], waits: list[float]
) -> None:
    with pytest.raises(PublishError) as refused:
        publisher.publish(request(media), account(api, category_id="99"), MemoryJournal())

    assert not refused.value.retryable
    assert "invalidCategoryId" in str(refused.value)
    assert waits == []


def test_a_thumbnail_youtube_will_not_take_leaves_the_video_published(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path], tmp_path: Path
) -> None:
    not_an_image = tmp_path / "thumb.jpg"
    not_an_image.write_bytes(b"GIF89a not a jpeg")
    journal = MemoryJournal()

    receipt = publisher.publish(request(media, thumbnail=not_an_image), account(api), journal)

    assert receipt.platform_id == only_video(api).id
    assert journal.values["thumbnail"].startswith("refused: ")
    assert "invalidImage" in journal.values["thumbnail"]
    calls = len(api.log)
    publisher.publish(request(media, thumbnail=not_an_image), account(api), journal)
    assert api.log[calls:] == []


def test_a_thumbnail_that_failed_for_now_is_set_by_the_next_attempt(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path]
) -> None:
    journal = MemoryJournal()
    api.inject("thumbnails.set", *[unavailable(503)] * 4)
    with pytest.raises(PublishError) as later:
        publisher.publish(request(media), account(api), journal)
    assert later.value.retryable
    assert "platform_id" in journal.values

    publisher.publish(request(media), account(api), journal)

    assert only_video(api).thumbnail == media[1].read_bytes()
    assert [op for _m, op, _s in api.log].count("videos.insert") == 1


def test_statistics_and_channel_identity_are_read_through_bad_answers(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path], waits: list[float]
) -> None:
    channel = account(api)
    receipt = publisher.publish(request(media), channel, MemoryJournal())
    only_video(api).statistics.update(viewCount=1520, likeCount=87, commentCount=9)
    api.inject("videos.list", malformed_json(), rate_limited(1), stall(0.6))
    publisher = publisher_for(api, api.clock, waits, timeout_s=0.3)

    stats = publisher.video_stats("item-1", receipt, channel)

    assert (stats.views, stats.likes, stats.comments) == (1520, 87, 9)
    assert stats.url == receipt.url
    assert len(waits) == 3
    assert waits[1] >= 1.0  # Retry-After honoured

    api.inject("channels.list", unavailable(503))
    identity = publisher.channel_identity(channel)
    assert identity == {
        "id": api.channel.id,
        "title": api.channel.title,
        "custom_url": api.channel.custom_url,
    }


def test_statistics_of_a_video_youtube_does_not_have_are_an_error(
    api: FakeYouTubeAPI, publisher: YouTubePublisher, media: tuple[Path, Path]
) -> None:
    channel = account(api)
    receipt = publisher.publish(request(media), channel, MemoryJournal())
    api.videos.clear()

    with pytest.raises(PublishError, match="no video"):
        publisher.video_stats("item-1", receipt, channel)


class CountingTokenStore(MemoryTokenStore):
    """Counts how often the refresh lock was taken; ``on_lock`` runs once it is held (another
    run refreshing first)."""

    def __init__(self, **tokens: Any) -> None:
        super().__init__(**tokens)
        self.locked = 0
        self.on_lock: Any = None

    @contextmanager
    def refreshing(self) -> Iterator[OAuthTokens]:
        with self.lock:
            self.locked += 1
            if self.on_lock is not None:
                self.on_lock()
            yield self.tokens
