"""The whole pipeline with every paid provider chosen and pointed at its fake through the
environment (tests/fakes/vendors.py): an English and a Korean item become valid videos,
each vendor call leaves a vendor_usage row, and a rerun asks no vendor anything."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest

from autoclip_core.render.probe import probe
from autoclip_core.schemas import Narration, RenderedVideo, SourceItem
from resources import registry
from resources.tts.elevenlabs import DEFAULT_VOICE
from tests.assets.conftest import Pipeline, make_pipeline
from tests.fakes.net import forbid_outside_connections
from tests.fakes.vendors import KEYS, FakeVendors, running_vendors


@pytest.fixture(scope="module")
def vendors() -> Iterator[FakeVendors]:
    with pytest.MonkeyPatch.context() as monkeypatch, running_vendors() as fakes:
        forbid_outside_connections(monkeypatch)
        monkeypatch.delenv("AUTOCLIP_REDIS_URL", raising=False)
        for env in registry.KEY_ENV.values():
            monkeypatch.delenv(env, raising=False)
        for name, value in fakes.environment().items():
            monkeypatch.setenv(name, value)
        yield fakes


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory, vendors: FakeVendors) -> Iterator[Pipeline]:
    yield from make_pipeline(tmp_path_factory.mktemp("real-providers"))


def run(pipeline: Pipeline, content_id: str) -> dg.ExecuteInProcessResult:
    return pipeline.defs.resolve_job_def("content_job").execute_in_process(
        instance=pipeline.instance, partition_key=content_id, raise_on_error=False
    )


@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_paid_provider_makes_a_valid_video_and_a_rerun_asks_no_vendor(
    pipeline: Pipeline,
    vendors: FakeVendors,
    sample_items: dict[str, SourceItem],
    language: str,
) -> None:
    settings = pipeline.settings
    assert settings.llm_provider == "gemini"
    assert settings.tts_provider == "elevenlabs,openai,google,espeak"
    assert settings.visuals_provider == "pexels,pixabay,openai-images,local"
    content_id = pipeline.add(sample_items[language])
    before = vendors.requests()
    gemini_before, elevenlabs_before = len(vendors.gemini.calls), len(vendors.elevenlabs.calls)

    result = run(pipeline, content_id)
    assert result.success
    asked = {v: n - before[v] for v, n in vendors.requests().items() if n > before[v]}
    # The first provider of each chain answers; the rest are never needed.
    assert set(asked) == {"gemini", "elevenlabs", "pexels"}

    video: RenderedVideo = result.output_for_node("video")
    info = probe(pipeline.defs.resources["storage"].local_path(video.video_key))
    assert info.video is not None
    assert info.audio is not None
    assert (info.video.width, info.video.height) == (1080, 1920)
    assert (info.video.codec, info.audio.codec) == ("h264", "aac")
    # The fake model's script is short (hook, three scenes, call to action): the video is
    # as long as ElevenLabs' narration of it.
    spoken: Narration = result.output_for_node("narration")
    assert spoken.voice == DEFAULT_VOICE
    assert spoken.language == language
    assert spoken.duration > 5
    assert abs(info.duration - spoken.duration) < 2

    rows = pipeline.app_db.usage.of_content(content_id)
    assert {r.usage.provider for r in rows} == {"gemini", "elevenlabs", "pexels"}
    assert all(r.usage.cost_usd >= 0 for r in rows)
    assert sum(r.usage.cost_usd for r in rows) > 0
    gemini_rows = [r for r in rows if r.usage.provider == "gemini"]
    assert len(gemini_rows) == len(vendors.gemini.calls) - gemini_before
    elevenlabs_rows = [r for r in rows if r.usage.provider == "elevenlabs"]
    assert len(elevenlabs_rows) == len(vendors.elevenlabs.calls) - elevenlabs_before

    settled = vendors.requests()
    again = run(pipeline, content_id)
    assert again.success
    assert vendors.requests() == settled
    assert again.output_for_node("video").cached is True
    assert len(pipeline.app_db.usage.of_content(content_id)) == len(rows)

    logged = "\n".join(
        str(e) for r in (result, again) for e in pipeline.instance.all_logs(r.run_id)
    )
    assert not any(key in logged for key in KEYS.values())
