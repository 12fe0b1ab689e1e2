"""A project whose template says ``"renderer": "creatomate"`` has its items rendered on
Creatomate while the deployment's default stays the local engine: the pipeline names its
media by storage key, Creatomate fetches each at a presigned URL, and the post-render check
judges the downloaded file without the local engine's caption measure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from dagster_shared.record import copy

from autoclip_core.db.templates import TemplateRepository
from autoclip_core.render.templates import load_template
from autoclip_core.schemas import RenderedVideo
from resources.renderer.choice import RendererChoice
from resources.renderer.creatomate import CreatomateRenderer
from resources.renderer.ffmpeg import FFmpegRenderer
from resources.vendors.chain import linked
from tests.assets.conftest import Pipeline, make_pipeline, sample_items
from tests.fakes.creatomate import API_KEY, FakeCreatomate
from tests.resources.renderer.test_creatomate import fake
from tests.resources.renderer.test_creatomate_webhook import ServedStorage

__all__ = ["fake", "sample_items"]


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    yield from make_pipeline(tmp_path / "pipeline")


def creatomate_template() -> dict[str, Any]:
    """The short template at a quarter of its size, made on Creatomate."""
    return load_template("short") | {"width": 270, "height": 480, "renderer": "creatomate"}


def test_a_template_that_chooses_creatomate_is_rendered_there_from_stored_media(
    pipeline: Pipeline,
    fake: FakeCreatomate,
    sample_items: dict,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(
        TemplateRepository,
        "source_for_content",
        lambda self, content_id, name: creatomate_template(),
    )
    settings = pipeline.settings
    ServedStorage.servers[fake.server.base] = fake.server
    storage = ServedStorage(root=str(settings.media_dir), base_url=fake.server.base)
    creatomate = CreatomateRenderer(
        base_url=fake.base_url,
        api_key=API_KEY,
        cache_dir=str(tmp_path / "vendor-cache"),
        poll_interval_s=0.01,
        storage=storage,
    )
    renderer = linked(
        RendererChoice,
        [("ffmpeg", FFmpegRenderer.from_settings(settings)), ("creatomate", creatomate)],
    )
    resources = {**pipeline.defs.resources, "storage": storage, "renderer": renderer}
    pipeline = replace(pipeline, defs=copy(pipeline.defs, resources=resources))
    content_id = pipeline.add(sample_items["en"])
    result = pipeline.run("content_job", content_id)
    assert result.success

    [render] = fake.renders.values()
    assert "renderer" not in render.script
    posted = json.loads(fake.server.hits("/v2/renders")[0].body)
    sources = [e["source"] for e in walk(posted["elements"]) if "source" in e]
    assert sources
    assert all(s.startswith(fake.server.url("/bucket/")) for s in sources)
    assert fake.downloads == 1

    video: RenderedVideo = result.output_for_node("video")
    assert not video.local_render
    assert (video.width, video.height) == (270, 480)
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["safety_postcheck"].passed
    metadata = checks["safety_postcheck"].metadata
    assert metadata["caption_coverage"].value == "not judged: rendered remotely"


def walk(elements: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for element in elements:
        yield element
        yield from walk(element.get("elements") or [])
