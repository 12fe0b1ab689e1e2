"""The fake YouTube answers as Google documents the resumable upload protocol, checked with raw
HTTP (not through our client): so that a client passing against it passes for the right
reasons."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.fakes.fixtures import _loopback_only  # noqa: F401  (autouse: loopback only)
from tests.fakes.youtube_api import (
    CHUNK_UNIT,
    CLIENT_ID,
    CLIENT_SECRET,
    FakeClock,
    FakeYouTubeAPI,
    running_fake_youtube,
)

SIZE = 2 * CHUNK_UNIT + 1000
DATA = bytes(range(256)) * (SIZE // 256) + bytes(SIZE % 256)


@pytest.fixture
def api() -> Iterator[FakeYouTubeAPI]:
    # 18:00 UTC on 2 March is 10:00 in Los Angeles (PST, UTC-8)
    with running_fake_youtube(clock=FakeClock(datetime(2026, 3, 2, 18, 0, tzinfo=UTC))) as fake:
        yield fake


def access_token(api: FakeYouTubeAPI) -> str:
    answer = httpx.post(
        f"{api.base}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": api.grant_refresh_token(),
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def insert(api: FakeYouTubeAPI, token: str, resource: dict[str, Any]) -> httpx.Response:
    """Start a resumable session for a SIZE-byte video (``videos.insert``)."""
    return httpx.post(
        f"{api.base}/upload/youtube/v3/videos",
        params={"uploadType": "resumable", "part": "snippet,status"},
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json; charset=UTF-8",
            "X-Upload-Content-Length": str(SIZE),
            "X-Upload-Content-Type": "video/mp4",
        },
        content=json.dumps(resource),
    )


def start(api: FakeYouTubeAPI, token: str) -> str:
    answer = insert(api, token, {"snippet": {"title": "A title", "categoryId": "22"}})
    assert answer.status_code == 200, answer.text
    return answer.headers["location"]


def put(uri: str, token: str, body: bytes, content_range: str) -> httpx.Response:
    return httpx.put(
        uri,
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Range": content_range},
    )


def test_a_session_answers_308_with_range_until_the_last_byte_then_201_with_the_video(
    api: FakeYouTubeAPI,
) -> None:
    token = access_token(api)
    uri = start(api, token)

    status = put(uri, token, b"", f"bytes */{SIZE}")
    assert status.status_code == 308
    assert "range" not in status.headers  # nothing received yet: no Range at all

    first = put(uri, token, DATA[:CHUNK_UNIT], f"bytes 0-{CHUNK_UNIT - 1}/{SIZE}")
    assert first.status_code == 308
    assert first.headers["range"] == f"bytes=0-{CHUNK_UNIT - 1}"

    rest = put(uri, token, DATA[CHUNK_UNIT:], f"bytes {CHUNK_UNIT}-{SIZE - 1}/{SIZE}")
    assert rest.status_code == 201
    video = rest.json()
    assert video["kind"] == "youtube#video"
    assert api.videos[video["id"]].data == DATA

    again = put(uri, token, b"", f"bytes */{SIZE}")  # asked after completion: the same video
    assert again.status_code == 200
    assert again.json()["id"] == video["id"]
    assert len(api.videos) == 1


def test_a_chunk_that_is_not_the_last_must_be_a_multiple_of_256_kib(api: FakeYouTubeAPI) -> None:
    token = access_token(api)
    uri = start(api, token)

    refused = put(uri, token, DATA[:1000], f"bytes 0-999/{SIZE}")

    assert refused.status_code == 400
    assert put(uri, token, b"", f"bytes */{SIZE}").status_code == 308  # nothing kept


def test_a_cut_connection_keeps_whole_256_kib_units_and_says_so_in_the_range(
    api: FakeYouTubeAPI,
) -> None:
    token = access_token(api)
    uri = start(api, token)
    api.cut_at(CHUNK_UNIT + 5000)

    with pytest.raises(httpx.TransportError):
        put(uri, token, DATA[: 2 * CHUNK_UNIT], f"bytes 0-{2 * CHUNK_UNIT - 1}/{SIZE}")

    status = put(uri, token, b"", f"bytes */{SIZE}")
    assert status.status_code == 308
    assert status.headers["range"] == f"bytes=0-{CHUNK_UNIT - 1}"
    assert api.cuts == [CHUNK_UNIT + 5000]


def test_an_expired_session_is_404_and_an_unknown_token_401(api: FakeYouTubeAPI) -> None:
    token = access_token(api)
    uri = start(api, token)
    upload_id = httpx.URL(uri).params["upload_id"]

    assert put(uri, "ya29.unknown", b"", f"bytes */{SIZE}").status_code == 401
    api.expire_session(upload_id)
    assert put(uri, token, b"", f"bytes */{SIZE}").status_code == 404


def test_quota_is_counted_per_pacific_day_and_refused_with_the_documented_reason() -> None:
    clock = FakeClock(datetime(2026, 3, 2, 18, 0, tzinfo=UTC))  # 10:00 PST
    with running_fake_youtube(clock=clock, daily_units=2000) as api:
        token = access_token(api)
        start(api, token)  # 1600 units

        answer = insert(api, token, {"snippet": {"title": "again"}})
        assert answer.status_code == 403
        error = answer.json()["error"]["errors"][0]
        assert (error["reason"], error["domain"]) == ("quotaExceeded", "youtube.quota")

        clock.advance(timedelta(hours=13, minutes=59))  # 23:59 PST: still the same day
        assert api.charge("videos.insert") is not None
        clock.advance(timedelta(minutes=1))  # midnight in Los Angeles: a new day
        token = access_token(api)
        start(api, token)
        assert api.units_on(api.pacific_day()) == 1600


def test_a_channel_past_its_daily_uploads_gets_upload_limit_exceeded() -> None:
    with running_fake_youtube(channel_daily_uploads=0) as api:
        token = access_token(api)
        answer = insert(api, token, {"snippet": {"title": "one more"}})
    assert answer.status_code == 400
    assert answer.json()["error"]["errors"][0]["reason"] == "uploadLimitExceeded"


def test_metadata_outside_youtubes_rules_is_refused_with_its_reason(api: FakeYouTubeAPI) -> None:
    token = access_token(api)
    cases = {
        "invalidTitle": {"snippet": {"title": "x" * 101}},
        "invalidDescription": {"snippet": {"title": "t", "description": "<b>"}},
        "invalidTags": {"snippet": {"title": "t", "tags": ["a" * 300, "b" * 300]}},
        "invalidCategoryId": {"snippet": {"title": "t", "categoryId": "99"}},
        "invalidPublishAt": {
            "snippet": {"title": "t"},
            "status": {"privacyStatus": "public", "publishAt": "2026-04-01T00:00:00Z"},
        },
    }
    for reason, resource in cases.items():
        answer = insert(api, token, resource)
        assert answer.status_code == 400, reason
        assert answer.json()["error"]["errors"][0]["reason"] == reason


def test_with_an_upload_bucket_inserts_count_apart_from_the_units() -> None:
    with running_fake_youtube(daily_inserts=1, daily_units=100) as api:
        token = access_token(api)
        start(api, token)  # the day's one insert; no units spent on it

        assert api.units_on(api.pacific_day()) == 0
        refusal = api.charge("videos.insert")
        assert refusal is not None
        assert refusal.status == 403
        assert b"quotaExceeded" in refusal.body
        assert api.charge("videos.list") is None  # units are still there for the rest
        assert api.units_on(api.pacific_day()) == 1
