from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from resources.errors import VisualsError
from resources.vendors.usage import recording_usage
from resources.visuals.pixabay import PixabayVisuals, search_request
from tests.fakes.faults import rate_limited, reset, stall, with_faults
from tests.fakes.pictures import query_ids
from tests.fakes.pixabay import SEARCH, FakePixabay
from tests.fakes.server import FakeServer
from tests.resources.visuals.conftest import scene_card

pytestmark = pytest.mark.usefixtures("allow_loopback")

QUERY = "agricultural drone spraying field"


def pixabay(fake: FakePixabay, cache_dir: str, **changes: object) -> PixabayVisuals:
    fields: dict[str, object] = {
        "base_url": fake.base_url,
        "api_key": fake.api_key,
        "cache_dir": cache_dir,
        "timeout_s": 5.0,
        "requests_per_minute": {"pixabay": 0},
        **changes,
    }
    return PixabayVisuals(**fields)  # type: ignore[arg-type]


def test_search_request_sends_the_key_as_a_parameter_for_vertical_photos() -> None:
    card = scene_card(language="ko", keywords=["드론", "농업"])
    request = search_request("https://pixabay.com", "k3y", card, per_page=1)
    assert request.url.path == "/api/"
    assert "authorization" not in request.headers
    assert dict(request.url.params) == {
        "key": "k3y",
        "q": "드론 농업",
        "lang": "ko",
        "image_type": "photo",
        "orientation": "vertical",
        "safesearch": "true",
        "per_page": "3",
    }


def test_scene_photo_comes_from_the_large_image_and_credits_the_user(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    fake = FakePixabay(fake_server)
    out = tmp_path / "scene.png"
    with recording_usage(None, None) as calls:
        result = pixabay(fake, cache_dir).scene_image(scene_card(width=1080, height=1920), out)

    [search] = fake_server.hits(SEARCH)
    assert search.query["key"] == fake.api_key
    assert search.query["q"] == QUERY
    assert search.query["orientation"] == "vertical"
    first = query_ids(QUERY, 1, start=7000)[0]
    assert fake_server.hits(f"/get/{first}_1280.jpg")
    with Image.open(out) as image:
        assert image.size == (1080, 1920)
    assert result.origin == "stock"
    assert result.source_id == f"pixabay:{first}"
    assert result.credit is not None
    assert result.credit.author == f"user{first % 997}"
    assert result.credit.source_url == f"https://pixabay.com/photos/scene-{first}/"
    assert result.credit.licence == "Pixabay Content License"
    assert result.credit.required
    assert [(u.provider, u.units) for u in calls.usages] == [("pixabay", {"requests": 1})]


def test_a_broken_download_hands_over_to_the_next_unused_hit(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    fake = FakePixabay(fake_server)
    ids = query_ids(QUERY, 3, start=7000)
    fake.broken.add(ids[1])
    card = scene_card(avoid=[f"pixabay:{ids[0]}"])
    result = pixabay(fake, cache_dir).scene_image(card, tmp_path / "scene.png")
    assert result.source_id == f"pixabay:{ids[2]}"
    assert not fake_server.hits(f"/get/{ids[0]}_1280.jpg")


def test_a_bad_key_fails_at_once_with_pixabays_text_and_never_shows_the_key(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = FakePixabay(fake_server)
    provider = pixabay(fake, cache_dir, api_key="my-secret-pixabay-key")
    with pytest.raises(VisualsError) as failure:
        provider.scene_image(scene_card(), tmp_path / "scene.png")
    message = str(failure.value)
    assert "[ERROR 400] Invalid or missing API key" in message
    assert "my-secret-pixabay-key" not in message
    assert not failure.value.retryable
    assert len(fake_server.hits(SEARCH)) == 1
    assert waits == []


def test_a_stall_past_the_timeout_and_a_reset_are_retried(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = FakePixabay(fake_server)
    fake_server.route(SEARCH, with_faults(fake.search, [stall(2.0), reset()]))
    provider = pixabay(fake, cache_dir, timeout_s=0.5)
    result = provider.scene_image(scene_card(), tmp_path / "scene.png")
    assert result.source_id is not None
    assert len(fake_server.hits(SEARCH)) == 3
    assert len(waits) == 2


def test_a_long_retry_after_is_left_to_the_runs_retry(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = FakePixabay(fake_server)
    fake_server.route(SEARCH, with_faults(fake.search, [rate_limited(60)]))
    with pytest.raises(VisualsError) as failure:
        pixabay(fake, cache_dir).scene_image(scene_card(), tmp_path / "scene.png")
    assert failure.value.retryable
    assert failure.value.retry_after == 60
    assert waits == []


def test_rerun_asks_pixabay_nothing(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    fake = FakePixabay(fake_server)
    pixabay(fake, cache_dir).scene_image(scene_card(), tmp_path / "a.png")
    seen = len(fake_server.requests)
    pixabay(fake, cache_dir).scene_image(scene_card(), tmp_path / "b.png")
    assert len(fake_server.requests) == seen
