"""Pexels and Pixabay video search against fakes of their documented video endpoints that
serve real mp4 files: the request, the clip chosen (portrait or croppable, long enough, never
twice), its checks, its credit, the overlay laid over it, faults, and the media setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from autoclip_core.render.probe import probe
from resources.errors import VisualsError
from resources.vendors.usage import recording_usage
from resources.visuals.base import SceneCard, VisualResult
from resources.visuals.pexels import PexelsVisuals, parse_video_search, video_search_request
from resources.visuals.pixabay import PixabayVisuals
from resources.visuals.pixabay import video_search_request as pixabay_video_request
from resources.visuals.stock import StockVisuals
from tests.fakes.faults import malformed_json, rate_limited, reset, unavailable, with_faults
from tests.fakes.pexels import SEARCH, VIDEO_SEARCH, FakePexels
from tests.fakes.pixabay import VIDEO_SEARCH as PIXABAY_VIDEO_SEARCH
from tests.fakes.pixabay import FakePixabay
from tests.fakes.server import FakeServer, Reply
from tests.resources.visuals.conftest import scene_card

pytestmark = pytest.mark.usefixtures("allow_loopback")

QUERY = "agricultural drone spraying field"


def clip_card(**changes: object) -> SceneCard:
    return scene_card(**{"clip_seconds": 2.5, **changes})


def vendor(
    cls: type[StockVisuals], fake: FakePexels | FakePixabay, cache_dir: str, **changes: object
) -> StockVisuals:
    fields: dict[str, object] = {
        "base_url": fake.base_url,
        "api_key": fake.api_key,
        "cache_dir": cache_dir,
        "timeout_s": 5.0,
        "requests_per_minute": {cls.vendor: 0},
        "media": "video",
        **changes,
    }
    return cls(**fields)  # type: ignore[arg-type]


def pexels(fake: FakePexels, cache_dir: str, **changes: object) -> StockVisuals:
    return vendor(PexelsVisuals, fake, cache_dir, **changes)


def visual(
    provider: StockVisuals, card: SceneCard, tmp_path: Path, name: str = "scene"
) -> tuple[VisualResult, Path, Path]:
    image, clip = tmp_path / f"{name}.png", tmp_path / f"{name}.mp4"
    return provider.scene_visual(card, image, clip), image, clip


def file_hits(server: FakeServer, prefix: str) -> list[str]:
    return [r.path for r in server.requests if r.path.startswith(prefix)]


def test_the_video_search_puts_the_bare_key_in_authorization_and_asks_for_portraits() -> None:
    request = video_search_request("https://api.pexels.com/", "k3y", clip_card(), per_page=15)
    assert request.url.path == "/videos/search"
    assert request.headers["authorization"] == "k3y"
    assert dict(request.url.params) == {
        "query": QUERY,
        "orientation": "portrait",
        "per_page": "15",
        "locale": "en-US",
    }


def test_each_video_is_offered_at_its_smallest_mp4_that_covers_the_card() -> None:
    def video(video_id: int, files: list[tuple[str, int | None, int | None]]) -> dict:
        return {
            "id": video_id,
            "duration": 7,
            "url": f"https://www.pexels.com/video/{video_id}/",
            "user": {"name": "A", "url": "https://www.pexels.com/@a"},
            "video_files": [
                {"file_type": kind, "width": w, "height": h, "link": f"https://v/{video_id}/{w}"}
                for kind, w, h in files
            ],
        }

    body = {
        "videos": [
            video(
                1, [("video/mp4", 2160, 3840), ("video/mp4", 1080, 1920), ("video/mp4", 540, 960)]
            ),
            video(2, [("video/mp4", 640, 360), ("video/mp4", None, None)]),
            video(3, [("video/mp4", 960, 540), ("video/webm", 2160, 3840)]),
        ]
    }
    card = clip_card(width=1080, height=1920)
    found = parse_video_search(body, card)
    assert [(c.source_id, c.video_url, c.width, c.height, c.duration) for c in found] == [
        ("pexels-video:1", "https://v/1/1080", 1080, 1920, 7.0),
    ]
    # A smaller card takes a smaller file; a landscape one is croppable within 2x.
    small = parse_video_search(body, clip_card(width=540, height=960))
    assert [(c.source_id, c.width) for c in small] == [
        ("pexels-video:1", 540),
        ("pexels-video:3", 960),
    ]
    with pytest.raises(VisualsError, match="unexpected video search answer"):
        parse_video_search({"videos": [{"id": 1}]}, card)


def test_a_scene_clip_is_downloaded_checked_credited_and_given_its_overlay(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    fake = FakePexels(fake_server)
    first = fake.video_ids(QUERY)[0]
    with recording_usage(None, None) as calls:
        result, image, clip = visual(pexels(fake, cache_dir), clip_card(), tmp_path)

    [search] = fake_server.hits(VIDEO_SEARCH)
    assert search.headers["authorization"] == fake.api_key
    assert search.query["query"] == QUERY
    assert fake_server.hits(SEARCH) == []
    assert file_hits(fake_server, "/video-files/") == [
        f"/video-files/{first}/{first}-hd_540_960_25fps.mp4"
    ]
    assert result.clip
    assert result.origin == "stock"
    assert result.source_id == f"pexels-video:{first}"
    assert result.credit is not None
    assert result.credit.model_dump() == {
        "provider": "pexels",
        "licence": "Pexels License",
        "author": f"Videographer {first % 89}",
        "author_url": f"https://www.pexels.com/@videographer-{first % 89}",
        "source_url": f"https://www.pexels.com/video/scene-{first}/",
        "required": True,
        "medium": "video",
    }
    assert result.credit.line().startswith(f"Video by Videographer {first % 89} on Pexels")
    info = probe(clip)
    assert info.video is not None
    assert (info.video.width, info.video.height) == (540, 960)
    assert info.duration >= 2.5
    with Image.open(image) as overlay:
        assert overlay.mode == "RGBA"
        assert overlay.size == (540, 960)
        alpha = overlay.getchannel("A")
        # Veiled and lettered at the top, clear at the bottom where the clip shows through.
        assert alpha.crop((0, 0, 540, 100)).getextrema()[1] > 100
        assert alpha.crop((0, 900, 540, 960)).getextrema() == (0, 0)
    assert [(u.provider, u.model, u.units) for u in calls.usages] == [
        ("pexels", "video-search", {"requests": 1})
    ]


def test_a_clip_the_video_already_shows_or_shorter_than_the_scene_is_not_chosen(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    fake = FakePexels(fake_server)
    ids = fake.video_ids(QUERY)
    fake.video_seconds[ids[1]] = 2
    provider = pexels(fake, cache_dir)
    one, _, _ = visual(provider, clip_card(), tmp_path, "one")
    two, _, _ = visual(provider, clip_card(avoid=[one.source_id]), tmp_path, "two")
    assert (one.source_id, two.source_id) == (f"pexels-video:{ids[0]}", f"pexels-video:{ids[2]}")


def test_a_cut_short_file_one_shorter_than_stated_and_one_that_is_no_video_are_skipped(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    fake = FakePexels(fake_server)
    ids = fake.video_ids(QUERY)
    fake.corrupt_videos.add(ids[0])
    fake.short_videos.add(ids[1])
    fake.not_videos.add(ids[2])
    result, _, clip = visual(pexels(fake, cache_dir), clip_card(), tmp_path)
    assert result.source_id == f"pexels-video:{ids[3]}"
    assert len(file_hits(fake_server, "/video-files/")) == 4
    assert probe(clip).duration >= 2.5


def test_rate_limit_and_outages_of_the_video_search_are_retried_honouring_retry_after(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = FakePexels(fake_server)
    fake_server.route(
        VIDEO_SEARCH, with_faults(fake.video_search, [rate_limited(3), unavailable(502)])
    )
    result, _, _ = visual(pexels(fake, cache_dir), clip_card(), tmp_path)
    assert result.clip
    assert len(fake_server.hits(VIDEO_SEARCH)) == 3
    assert len(waits) == 2
    assert waits[0] >= 3


def test_bad_video_search_answers_are_retried_then_fail_retryably(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = FakePexels(fake_server)
    faults = [malformed_json(), reset(), malformed_json()]
    fake_server.route(VIDEO_SEARCH, with_faults(fake.video_search, faults))
    with pytest.raises(VisualsError) as failure:
        visual(pexels(fake, cache_dir), clip_card(), tmp_path)
    assert failure.value.retryable
    assert len(fake_server.hits(VIDEO_SEARCH)) == 3


def test_an_answer_without_videos_fails_for_good(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    provider = pexels(FakePexels(fake_server), cache_dir)
    fake_server.route(
        VIDEO_SEARCH, Reply(body=b'{"page": 1}', headers={"Content-Type": "application/json"})
    )
    with pytest.raises(VisualsError, match="unexpected video search answer") as failure:
        visual(provider, clip_card(), tmp_path)
    assert not failure.value.retryable


def test_video_mode_fails_the_vendor_without_a_fitting_clip_and_auto_takes_a_photo(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    fake = FakePexels(fake_server, default_video_seconds=1)
    with pytest.raises(VisualsError, match=r"no unused clip of 2\.5 s or more"):
        visual(pexels(fake, cache_dir), clip_card(), tmp_path)
    assert fake_server.hits(SEARCH) == []

    result, image, clip = visual(pexels(fake, cache_dir, media="auto"), clip_card(), tmp_path)
    assert not result.clip
    assert str(result.source_id).startswith("pexels:")
    assert not clip.exists()
    with Image.open(image) as photo:
        assert photo.mode == "RGB"


def test_photo_mode_and_cards_without_a_length_never_search_videos(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    fake = FakePexels(fake_server)
    photo, _, _ = visual(pexels(fake, cache_dir, media="photo"), clip_card(), tmp_path, "a")
    title, _, _ = visual(pexels(fake, cache_dir), scene_card(index=1), tmp_path, "b")
    assert (photo.clip, title.clip) == (False, False)
    assert fake_server.hits(VIDEO_SEARCH) == []
    assert (
        pexels(fake, cache_dir, media="photo").fingerprint_inputs()
        != pexels(fake, cache_dir).fingerprint_inputs()
    )


def test_a_rerun_asks_for_nothing_and_gives_the_same_clip(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    fake = FakePexels(fake_server)
    one, _, first = visual(pexels(fake, cache_dir), clip_card(), tmp_path, "one")
    seen = len(fake_server.requests)
    with recording_usage(None, None) as again:
        two, _, second = visual(pexels(fake, cache_dir), clip_card(), tmp_path, "two")
    assert len(fake_server.requests) == seen
    assert one == two
    assert first.read_bytes() == second.read_bytes()
    assert again.cache_hits == {"pexels": 2}


# Pixabay ---------------------------------------------------------------------------------


def pixabay(fake: FakePixabay, cache_dir: str, **changes: object) -> StockVisuals:
    return vendor(PixabayVisuals, fake, cache_dir, **changes)


def test_the_pixabay_video_search_sends_the_key_as_a_parameter_for_films() -> None:
    request = pixabay_video_request("https://pixabay.com", "k3y", clip_card(language="ko"), 15)
    assert request.url.path == "/api/videos/"
    assert "authorization" not in request.headers
    assert dict(request.url.params) == {
        "key": "k3y",
        "video_type": "film",
        "q": QUERY,
        "lang": "ko",
        "safesearch": "true",
        "per_page": "15",
    }


def test_a_pixabay_clip_prefers_a_portrait_upload_at_the_rendition_that_covers_the_card(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    fake = FakePixabay(fake_server)
    ids = fake.video_ids(QUERY)
    fake.vertical.add(ids[2])
    result, _, clip = visual(pixabay(fake, cache_dir), clip_card(), tmp_path)
    assert result.source_id == f"pixabay-video:{ids[2]}"
    assert file_hits(fake_server, "/video/") == [f"/video/{ids[2]}_medium.mp4"]
    assert result.credit is not None
    assert result.credit.line() == (
        f"Video by filmer{ids[2] % 991} on Pixabay (Pixabay Content License): "
        f"https://pixabay.com/videos/scene-{ids[2]}/"
    )
    info = probe(clip)
    assert info.video is not None
    assert (info.video.width, info.video.height) == (540, 960)


def test_a_landscape_pixabay_clip_is_taken_when_it_crops_to_the_card_and_a_broken_one_skipped(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    fake = FakePixabay(fake_server)
    ids = fake.video_ids(QUERY)
    fake.corrupt_videos.add(ids[0])
    result, _, clip = visual(pixabay(fake, cache_dir), clip_card(), tmp_path)
    assert result.source_id == f"pixabay-video:{ids[1]}"
    assert file_hits(fake_server, "/video/") == [f"/video/{i}_medium.mp4" for i in ids[:2]]
    info = probe(clip)
    assert info.video is not None
    assert (info.video.width, info.video.height) == (960, 540)


def test_pixabay_outages_are_retried_and_a_bad_key_fails_at_once(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = FakePixabay(fake_server)
    fake_server.route(
        PIXABAY_VIDEO_SEARCH, with_faults(fake.video_search, [unavailable(503), rate_limited(2)])
    )
    assert visual(pixabay(fake, cache_dir), clip_card(), tmp_path)[0].clip
    assert len(waits) == 2

    refused = pixabay(fake, str(tmp_path / "another-cache"), api_key="wrong-key")
    with pytest.raises(VisualsError, match="Invalid or missing API key") as failure:
        visual(refused, clip_card(), tmp_path)
    assert not failure.value.retryable
    assert "wrong-key" not in str(failure.value)
