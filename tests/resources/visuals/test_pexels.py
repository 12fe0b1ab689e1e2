from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from resources.errors import VisualsError
from resources.vendors.usage import recording_usage
from resources.visuals.pexels import PexelsVisuals, photo_source, search_request
from resources.visuals.stock import MAX_UPSCALE, decode_checked
from tests.fakes.faults import malformed_json, rate_limited, reset, unavailable, with_faults
from tests.fakes.pexels import SEARCH, FakePexels
from tests.fakes.pictures import picture, query_ids
from tests.fakes.server import FakeServer
from tests.resources.visuals.conftest import scene_card

pytestmark = pytest.mark.usefixtures("allow_loopback")

QUERY = "agricultural drone spraying field"


def pexels(fake: FakePexels, cache_dir: str, **changes: object) -> PexelsVisuals:
    fields: dict[str, object] = {
        "base_url": fake.base_url,
        "api_key": fake.api_key,
        "cache_dir": cache_dir,
        "timeout_s": 5.0,
        "requests_per_minute": {"pexels": 0},
        **changes,
    }
    return PexelsVisuals(**fields)  # type: ignore[arg-type]


def photo_hits(server: FakeServer) -> list[str]:
    return [r.path for r in server.requests if r.path.startswith("/photos/")]


def test_search_request_puts_the_bare_key_in_authorization_and_asks_for_portraits() -> None:
    card = scene_card(language="ko", keywords=["#드론", "농업", "드론"])
    request = search_request("https://api.pexels.com/", "k3y", card, per_page=15)
    assert request.method == "GET"
    assert request.url.path == "/v1/search"
    assert request.headers["authorization"] == "k3y"
    assert dict(request.url.params) == {
        "query": "드론 농업",
        "orientation": "portrait",
        "per_page": "15",
        "locale": "ko-KR",
    }


def test_large2x_is_used_when_it_covers_the_card_else_the_original() -> None:
    photo = {
        "width": 1200,
        "height": 2000,
        "src": {"large2x": "https://x/large2x", "original": "https://x/original"},
    }
    assert photo_source(photo, scene_card(width=540, height=960)) == (
        "https://x/large2x",
        780,
        1300,
    )
    assert photo_source(photo, scene_card(width=1080, height=1920)) == (
        "https://x/original",
        1200,
        2000,
    )


def test_scene_photo_is_downloaded_checked_cropped_and_credited(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    fake = FakePexels(fake_server)
    out = tmp_path / "scene.png"
    result = pexels(fake, cache_dir).scene_image(scene_card(), out)

    [search] = fake_server.hits(SEARCH)
    assert search.headers["authorization"] == fake.api_key
    assert search.query == {
        "query": QUERY,
        "orientation": "portrait",
        "per_page": "15",
        "locale": "en-US",
    }
    first = query_ids(QUERY, 1)[0]
    assert photo_hits(fake_server) == [f"/photos/{first}/pexels-photo-{first}.jpeg"]
    assert [r.query.get("dpr") for r in fake_server.requests if r.path.startswith("/photos/")] == [
        "2"
    ]
    with Image.open(out) as image:
        assert image.size == (540, 960)
    assert result.origin == "stock"
    assert result.source_id == f"pexels:{first}"
    assert result.credit is not None
    assert result.credit.model_dump() == {
        "provider": "pexels",
        "licence": "Pexels License",
        "author": f"Photographer {first % 97}",
        "author_url": f"https://www.pexels.com/@photographer-{first % 97}",
        "source_url": f"https://www.pexels.com/photo/scene-{first}/",
        "required": True,
        "medium": "photo",
    }


def test_a_photo_the_video_already_shows_is_not_used_again(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    fake = FakePexels(fake_server)
    provider = pexels(fake, cache_dir)
    first = provider.scene_image(scene_card(index=2), tmp_path / "a.png")
    second = provider.scene_image(scene_card(index=3, avoid=[first.source_id]), tmp_path / "b.png")
    assert first.source_id != second.source_id
    assert second.source_id == f"pexels:{query_ids(QUERY, 2)[1]}"


def test_unreadable_and_too_small_photos_are_skipped(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    fake = FakePexels(fake_server)
    ids = query_ids(QUERY, 3)
    fake.broken.add(ids[0])
    fake.tiny.add(ids[1])
    result = pexels(fake, cache_dir).scene_image(scene_card(), tmp_path / "scene.png")
    assert result.source_id == f"pexels:{ids[2]}"
    assert len(photo_hits(fake_server)) == 3


def test_no_fresh_photo_fails_for_good_so_the_chain_moves_on(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    fake = FakePexels(fake_server, photos_per_query=2)
    used = [f"pexels:{i}" for i in query_ids(QUERY, 2)]
    with pytest.raises(VisualsError, match="no unused picture") as failure:
        pexels(fake, cache_dir).scene_image(scene_card(avoid=used), tmp_path / "scene.png")
    assert not failure.value.retryable


def test_a_wrong_key_fails_at_once_with_the_vendors_message_and_without_the_key(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = FakePexels(fake_server)
    provider = pexels(fake, cache_dir, api_key="Bearer wrong-secret-key")
    with pytest.raises(VisualsError) as failure:
        provider.scene_image(scene_card(), tmp_path / "scene.png")
    assert "HTTP 401: Unauthorized" in str(failure.value)
    assert "wrong-secret-key" not in str(failure.value)
    assert not failure.value.retryable
    assert len(fake_server.hits(SEARCH)) == 1
    assert waits == []


def test_rate_limit_and_outages_are_retried_honouring_retry_after(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = FakePexels(fake_server)
    fake_server.route(SEARCH, with_faults(fake.search, [rate_limited(4), unavailable()]))
    result = pexels(fake, cache_dir).scene_image(scene_card(), tmp_path / "scene.png")
    assert result.source_id is not None
    assert len(fake_server.hits(SEARCH)) == 3
    assert len(waits) == 2
    assert waits[0] >= 4


def test_reset_and_malformed_answers_are_retried_then_give_up(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = FakePexels(fake_server)
    fake_server.route(SEARCH, with_faults(fake.search, [reset(), malformed_json(), reset()]))
    with pytest.raises(VisualsError) as failure:
        pexels(fake, cache_dir).scene_image(scene_card(), tmp_path / "scene.png")
    assert failure.value.retryable
    assert len(fake_server.hits(SEARCH)) == 3
    assert len(waits) == 2


def test_rerun_asks_pexels_nothing_and_usage_is_recorded_once(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    fake = FakePexels(fake_server)
    with recording_usage(None, None) as first:
        one = pexels(fake, cache_dir).scene_image(scene_card(), tmp_path / "a.png")
    seen = len(fake_server.requests)
    with recording_usage(None, None) as again:
        two = pexels(fake, cache_dir).scene_image(scene_card(), tmp_path / "b.png")
    assert len(fake_server.requests) == seen
    assert one == two
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert [(u.provider, u.units, u.cost_usd) for u in first.usages] == [
        ("pexels", {"requests": 1}, 0.0)
    ]
    assert again.usages == []
    assert again.cache_hits == {"pexels": 2}


def test_a_picture_may_be_enlarged_at_most_max_upscale_to_cover_the_card() -> None:
    card = scene_card(width=1080, height=1920)
    fits = picture("a", round(1080 / MAX_UPSCALE), round(1920 / MAX_UPSCALE))
    assert decode_checked(fits, card, "fits").size == (540, 960)
    with pytest.raises(VisualsError, match="too small"):
        decode_checked(picture("b", 530, 960), card, "narrow")
    with pytest.raises(VisualsError, match="not a readable image"):
        decode_checked(picture("c", 600, 1000)[:200], card, "truncated")
