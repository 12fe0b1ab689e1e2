from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from autoclip_assets.definitions import build_definitions
from autoclip_core.schemas import RenderedVideo, Visuals
from autoclip_core.settings import Settings
from resources.errors import VisualsError
from resources.registry import ProviderConfigError, provider
from resources.vendors.usage import recording_usage
from resources.visuals.base import VisualsResource
from resources.visuals.chain import VisualsChain
from tests.assets.conftest import Pipeline, make_pipeline, sample_items
from tests.fakes.openai import FakeOpenAI
from tests.fakes.pexels import FakePexels
from tests.fakes.pictures import query_ids
from tests.fakes.pixabay import FakePixabay
from tests.fakes.server import FakeServer
from tests.resources.visuals.conftest import scene_card

__all__ = ["sample_items"]

pytestmark = pytest.mark.usefixtures("allow_loopback")

QUERY = "agricultural drone spraying field"
OPENAI_KEY = "sk-chain-test-0123456789"


def vendor_settings(server: FakeServer, root: Path, chain: str, **changes: object) -> Settings:
    fields: dict[str, object] = {
        "data_dir": root,
        "visuals_provider": chain,
        "pexels_api_key": "pexels-test-key",
        "pixabay_api_key": "pixabay-test-key",
        "openai_api_key": OPENAI_KEY,
        "pexels_base_url": server.base,
        "pixabay_base_url": server.base,
        "openai_base_url": server.base,
        "vendor_requests_per_minute": {"pexels": 0, "pixabay": 0},
        **changes,
    }
    return Settings(**fields)  # type: ignore[arg-type]


def visuals(server: FakeServer, root: Path, chain: str, **changes: object) -> VisualsResource:
    return provider("visuals", vendor_settings(server, root, chain, **changes))


def test_the_registry_builds_the_chain_in_order_and_needs_each_key(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    chain = visuals(fake_server, tmp_path, "pexels,pixabay,openai-images,local")
    assert isinstance(chain, VisualsChain)
    assert [name for name, _ in chain.providers()] == [
        "pexels",
        "pixabay",
        "openai-images",
        "local",
    ]
    with pytest.raises(ProviderConfigError, match="PIXABAY_API_KEY"):
        visuals(fake_server, tmp_path, "pixabay,local", pixabay_api_key=None)


def test_a_refused_vendor_hands_over_to_the_next_and_the_metadata_says_who_answered(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    FakePexels(fake_server, api_key="another-key")
    FakePixabay(fake_server)
    chain = visuals(fake_server, tmp_path, "pexels,pixabay,local")
    with recording_usage(None, None) as calls:
        result = chain.scene_image(scene_card(), tmp_path / "scene.png")
    assert result.source_id == f"pixabay:{query_ids(QUERY, 1, start=7000)[0]}"
    assert calls.metadata()["answered_by"] == {"visuals": "pixabay"}
    assert calls.metadata()["providers_failed"] == {"visuals": "pexels"}


def test_with_no_fresh_stock_photo_a_picture_is_generated(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    FakePexels(fake_server, photos_per_query=1)
    FakePixabay(fake_server, hits_per_query=1)
    openai = FakeOpenAI(fake_server, api_key=OPENAI_KEY)
    used = [f"pexels:{query_ids(QUERY, 1)[0]}", f"pixabay:{query_ids(QUERY, 1, start=7000)[0]}"]
    chain = visuals(fake_server, tmp_path, "pexels,pixabay,openai-images,local")
    result = chain.scene_image(scene_card(avoid=used), tmp_path / "scene.png")
    assert result.origin == "ai"
    assert len(openai.image_calls) == 1


def test_when_every_vendor_is_down_the_local_card_is_made(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    # Nothing is served: every vendor answers 404, which is not retried.
    chain = visuals(fake_server, tmp_path, "pexels,pixabay,openai-images,local")
    result = chain.scene_image(scene_card(), tmp_path / "scene.png")
    assert result.origin == "generated"
    with Image.open(tmp_path / "scene.png") as image:
        assert image.size == (540, 960)
    without_local = visuals(fake_server, tmp_path, "pexels,pixabay")
    with pytest.raises(VisualsError, match="every visuals provider failed"):
        without_local.scene_image(scene_card(), tmp_path / "other.png")


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    yield from make_pipeline(tmp_path / "pipeline")


def test_a_video_shows_each_stock_photo_once_and_its_description_credits_them(
    pipeline: Pipeline, fake_server: FakeServer, tmp_path: Path, sample_items: dict
) -> None:
    pexels = FakePexels(fake_server, photos_per_query=3, one_catalogue=True)
    settings = vendor_settings(fake_server, pipeline.settings.data_dir, "pexels,local")
    pipeline = replace(pipeline, defs=build_definitions(settings))
    content_id = pipeline.add(sample_items["en"])
    result = pipeline.run("content_job", content_id)
    assert result.success

    scenes: Visuals = result.output_for_node("scene_images")
    # Every search finds the same three photos: three scenes show one each, the others
    # fall back to the local cards.
    stock = [s for s in scenes.scenes if s.origin == "stock"]
    assert len({s.source_id for s in stock}) == len(stock) == 3
    assert {s.origin for s in scenes.scenes} == {"stock", "generated"}
    video: RenderedVideo = result.output_for_node("video")
    assert video.credits == [s.credit for s in stock]
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key.path == ["scene_images"]
    ]
    metadata = event.step_materialization_data.materialization.metadata
    assert metadata["vendor_calls"].value == len(fake_server.hits("/v1/search"))

    channel = Path(pipeline.settings.root / "channels" / "local" / "index.json")
    [entry] = json.loads(channel.read_text(encoding="utf-8"))["videos"]
    for scene in stock:
        assert scene.credit is not None
        assert f"Photo by {scene.credit.author} on Pexels" in entry["description"]
    searches = len(pexels.server.hits("/v1/search"))

    again = pipeline.run("content_job", content_id)
    assert again.success
    assert len(pexels.server.hits("/v1/search")) == searches
