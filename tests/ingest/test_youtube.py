from __future__ import annotations

from datetime import UTC, datetime

import pytest

from autoclip_core.ingest.config import Limits, YoutubeSource
from autoclip_core.ingest.poll import PollContext, SourceError
from autoclip_core.ingest.state import SourceState
from autoclip_core.ingest.youtube import poll_youtube
from tests.fakes.feeds import BILLION_LAUGHS
from tests.fakes.server import FakeServer
from tests.fakes.youtube import FakeYouTube, Video

CHANNEL = "UC" + "x" * 22
VIDEOS = [
    Video(
        "dQw4w9WgXcQ",
        "서울 지하철 이야기",
        "설명입니다",
        transcript=("ko", ["안녕하세요", "오늘은 지하철 요금 이야기입니다"]),
    ),
    Video("abcdefghijk", "No captions & more", "Just the description."),
]


@pytest.fixture
def youtube(fake_server: FakeServer, allow_loopback: None) -> FakeYouTube:
    return FakeYouTube(fake_server, CHANNEL, list(VIDEOS))


def ctx(youtube: FakeYouTube) -> PollContext:
    limits = Limits(fetch_timeout_s=5)
    return PollContext("p", "yt", limits, youtube.endpoints, datetime.now(UTC))


def enriched(source: YoutubeSource, youtube: FakeYouTube, state: SourceState | None = None):  # type: ignore[no-untyped-def]
    result = poll_youtube(source, state or SourceState(), ctx(youtube))
    return result, [c.enrich(c.item) if c.enrich else (c.item, None) for c in result.candidates]


def test_new_videos_come_from_the_channel_feed_with_transcripts_as_text(
    youtube: FakeYouTube,
) -> None:
    result, items = enriched(YoutubeSource(name="yt", channel_id=CHANNEL), youtube)
    (first, none), (second, why) = items
    assert first.url == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    assert first.canonical_url == first.url
    assert first.text == "안녕하세요 오늘은 지하철 요금 이야기입니다"
    assert first.language == "ko"
    assert none is None
    assert second.title == "No captions & more"
    assert second.text == "Just the description."  # no transcript: the description
    assert why is not None
    assert "TranscriptsDisabled" in why
    assert "https://i1.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg" in first.media_links
    assert result.etag == '"2"'


def test_the_feed_is_fetched_conditionally(youtube: FakeYouTube) -> None:
    source = YoutubeSource(name="yt", channel_id=CHANNEL, transcripts=False)
    first = poll_youtube(source, SourceState(), ctx(youtube))
    again = poll_youtube(source, SourceState(etag=first.etag), ctx(youtube))
    assert again.not_modified


def test_the_same_video_has_the_same_id_from_feed_and_api(
    youtube: FakeYouTube, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YT_KEY", youtube.api_key)
    feed = poll_youtube(YoutubeSource(name="a", channel_id=CHANNEL, transcripts=False),
                        SourceState(), ctx(youtube))  # fmt: skip
    for method in ("playlist_items", "search"):
        source = YoutubeSource(
            name="b", channel_id=CHANNEL, transcripts=False, api_key_env="YT_KEY", api_method=method
        )
        api = poll_youtube(source, SourceState(), ctx(youtube))
        assert [c.item.id for c in api.candidates] == [c.item.id for c in feed.candidates]
        assert api.candidates[0].item.published_at == datetime(2024, 5, 1, 9, tzinfo=UTC)


def test_the_api_key_travels_in_a_header_never_in_urls_or_errors(
    youtube: FakeYouTube, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YT_KEY", youtube.api_key)
    source = YoutubeSource(name="b", channel_id=CHANNEL, transcripts=False, api_key_env="YT_KEY")
    poll_youtube(source, SourceState(), ctx(youtube))
    [call] = youtube.api_calls
    assert call.headers["x-goog-api-key"] == youtube.api_key
    assert youtube.api_key not in str(call.query)
    youtube.quota_exceeded = True
    with pytest.raises(SourceError, match="HTTP 403") as caught:
        poll_youtube(source, SourceState(), ctx(youtube))
    assert youtube.api_key not in str(caught.value)


def test_without_the_key_in_the_environment_the_feed_is_used(youtube: FakeYouTube) -> None:
    source = YoutubeSource(name="b", channel_id=CHANNEL, transcripts=False, api_key_env="NOT_SET_X")
    result = poll_youtube(source, SourceState(), ctx(youtube))
    assert len(result.candidates) == 2
    assert "NOT_SET_X is not set" in result.notes[0]
    assert youtube.api_calls == []


def test_hostile_transcript_xml_is_refused_and_the_description_kept(youtube: FakeYouTube) -> None:
    youtube.hostile_transcript = BILLION_LAUGHS
    _, items = enriched(YoutubeSource(name="yt", channel_id=CHANNEL), youtube)
    item, why = items[0]
    assert item.text == "설명입니다"
    assert why is not None
    assert "refused" in why


def test_transcript_requests_go_through_the_ssrf_guard(
    fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    youtube = FakeYouTube(fake_server, CHANNEL, list(VIDEOS))
    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "")
    source = YoutubeSource(name="yt", channel_id=CHANNEL)
    with pytest.raises(Exception, match="non-public address"):
        poll_youtube(source, SourceState(), ctx(youtube))
    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "127.0.0.1")
    result = poll_youtube(source, SourceState(), ctx(youtube))
    monkeypatch.setenv("AUTOCLIP_FETCH_ALLOW_HOSTS", "")
    candidate = result.candidates[0]
    assert candidate.enrich is not None
    item, why = candidate.enrich(candidate.item)
    assert item.text == "설명입니다"
    assert why is not None
    assert "ConnectionError" in why
    assert fake_server.hits("/watch") == []
