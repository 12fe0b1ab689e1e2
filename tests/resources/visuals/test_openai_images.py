from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from resources.errors import VisualsError
from resources.vendors.usage import recording_usage
from resources.visuals.openai_images import (
    OpenAIImagesVisuals,
    generation_payload,
    generation_request,
    parse_generation,
)
from tests.fakes.faults import unavailable, with_faults
from tests.fakes.openai import IMAGES_PATH, FakeOpenAI
from tests.fakes.server import FakeServer
from tests.resources.visuals.conftest import scene_card

KEY = "sk-test-images-0123456789"


def generator(server: FakeServer, cache_dir: str, **changes: object) -> OpenAIImagesVisuals:
    fields: dict[str, object] = {
        "base_url": server.base,
        "api_key": KEY,
        "cache_dir": cache_dir,
        "timeout_s": 5.0,
        **changes,
    }
    return OpenAIImagesVisuals(**fields)  # type: ignore[arg-type]


def test_gpt_image_payload_asks_a_portrait_size_and_no_response_format() -> None:
    card = scene_card(width=1080, height=1920)
    payload = generation_payload("gpt-image-1", card)
    assert payload["size"] == "1024x1536"
    assert "response_format" not in payload
    assert "agricultural drone spraying field" in payload["prompt"]
    request = generation_request("https://api.openai.com", KEY, payload)
    assert request.url == "https://api.openai.com/v1/images/generations"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert json.loads(request.content) == payload


def test_dall_e_payload_asks_for_base64_at_its_own_sizes() -> None:
    payload = generation_payload("dall-e-3", scene_card(width=1080, height=1920))
    assert payload["size"] == "1024x1792"
    assert payload["response_format"] == "b64_json"
    assert generation_payload("dall-e-3", scene_card(width=1080, height=1080))["size"] == (
        "1024x1024"
    )


def test_an_answer_without_an_image_fails_clearly() -> None:
    with pytest.raises(VisualsError, match="unexpected answer"):
        parse_generation({"data": [{"url": "https://example.com/x.png"}]})
    with pytest.raises(VisualsError, match="unexpected answer"):
        parse_generation({"data": [{"b64_json": "not base64!"}]})


def test_generated_picture_is_framed_counted_and_paid_once(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    fake = FakeOpenAI(fake_server, api_key=KEY)
    card = scene_card(width=1080, height=1920)
    with recording_usage(None, None) as calls:
        result = generator(fake_server, cache_dir).scene_image(card, tmp_path / "a.png")
    [body] = fake.image_calls
    assert body["model"] == "gpt-image-1"
    assert body["size"] == "1024x1536"
    assert fake_server.hits(IMAGES_PATH)[0].headers["authorization"] == f"Bearer {KEY}"
    with Image.open(tmp_path / "a.png") as image:
        assert image.size == (1080, 1920)
    assert result.origin == "ai"
    assert result.source_id is not None
    assert result.source_id.startswith("openai-images:")
    assert result.credit is not None
    assert not result.credit.required
    assert [(u.provider, u.model, u.units, u.cost_usd) for u in calls.usages] == [
        ("openai-images", "gpt-image-1", {"images": 1}, 0.063)
    ]

    with recording_usage(None, None) as again:
        generator(fake_server, cache_dir).scene_image(card, tmp_path / "b.png")
    assert len(fake.image_calls) == 1
    assert again.usages == []
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_two_scenes_with_the_same_words_get_two_pictures(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path
) -> None:
    fake = FakeOpenAI(fake_server, api_key=KEY)
    provider = generator(fake_server, cache_dir)
    provider.scene_image(scene_card(index=2), tmp_path / "a.png")
    provider.scene_image(scene_card(index=3), tmp_path / "b.png")
    assert len(fake.image_calls) == 2


def test_a_wrong_key_fails_at_once_with_openais_message(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path, waits: list[float]
) -> None:
    FakeOpenAI(fake_server, api_key="sk-the-right-one-000000")
    with pytest.raises(VisualsError) as failure:
        generator(fake_server, cache_dir).scene_image(scene_card(), tmp_path / "a.png")
    assert "HTTP 401: invalid_api_key: Incorrect API key provided" in str(failure.value)
    assert KEY not in str(failure.value)
    assert not failure.value.retryable
    assert waits == []


def test_an_outage_is_retried_and_nothing_is_counted_for_failed_calls(
    fake_server: FakeServer, cache_dir: str, tmp_path: Path, waits: list[float]
) -> None:
    fake = FakeOpenAI(fake_server, api_key=KEY)
    fake_server.route(IMAGES_PATH, with_faults(fake._images, [unavailable(), unavailable(502)]))
    with recording_usage(None, None) as calls:
        generator(fake_server, cache_dir).scene_image(scene_card(), tmp_path / "a.png")
    assert len(fake_server.hits(IMAGES_PATH)) == 3
    assert len(waits) == 2
    assert len(calls.usages) == 1
