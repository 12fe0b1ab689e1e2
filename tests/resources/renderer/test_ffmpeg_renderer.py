"""The ``renderer`` resource for the local engine: it holds the engine's config, renders in a
Dagster run, and reports failures as provider errors (the engine's own tests are in
tests/core/render)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from autoclip_core.render.engine import FFmpegEngine, RenderError, RenderJob, RenderStats
from autoclip_core.render.engine_config import EngineConfig
from autoclip_core.render.ffmpeg_binary import ProgressCallback
from autoclip_core.render.probe import probe
from autoclip_core.render.renderscript import parse_render_script
from autoclip_core.settings import Settings
from resources.errors import RendererError
from resources.renderer.base import RendererResource
from resources.renderer.ffmpeg import FFmpegEngineConfig, FFmpegRenderer
from tests.core.render.helpers import write_image

TINY = {
    "width": 64,
    "height": 96,
    "frame_rate": 10,
    "duration": 0.5,
    "elements": [{"type": "image", "source": "red.png"}],
}


def test_the_resource_holds_the_engine_config_it_renders_with(tmp_path: Path) -> None:
    renderer = FFmpegRenderer.from_settings(Settings(data_dir=tmp_path, render_threads=2))
    assert renderer.config == FFmpegEngineConfig(threads=2)
    assert isinstance(renderer.config, EngineConfig)
    engine = renderer.engine()
    assert isinstance(engine, FFmpegEngine)
    assert engine.config is renderer.config
    assert "threads=2" in " ".join(engine.config.video_args())


def test_a_run_renders_with_the_config_it_is_launched_with(tmp_path: Path) -> None:
    write_image(tmp_path / "red.png", (220, 20, 20))
    script = parse_render_script(TINY)

    @dg.asset
    def video(renderer: RendererResource) -> RenderStats:
        return renderer.render(script, tmp_path / "out.mp4", media_dir=tmp_path)

    result = dg.materialize(
        [video],
        resources={"renderer": FFmpegRenderer.configure_at_launch()},
        run_config={"resources": {"renderer": {"config": {"config": {"threads": 1}}}}},
    )
    assert result.success
    command = result.output_for_node("video").command
    assert command[command.index("-x264-params") + 1].startswith("threads=1:")
    info = probe(tmp_path / "out.mp4")
    assert info.video is not None
    assert (info.video.width, info.video.height) == (64, 96)


def test_a_template_the_engine_cannot_render_is_a_provider_error_not_worth_retrying(
    tmp_path: Path,
) -> None:
    script = parse_render_script(TINY)  # red.png is missing from the media folder
    with pytest.raises(RendererError) as raised:
        FFmpegRenderer().render(script, tmp_path / "out.mp4", media_dir=tmp_path)
    assert raised.value.capability == "renderer"
    assert not raised.value.retryable
    assert "elements[0].source: media file not found" in str(raised.value)


def test_a_render_that_fails_on_the_way_is_a_provider_error_worth_retrying(
    tmp_path: Path,
) -> None:
    class Crashing(FFmpegEngine):
        def render(self, job: RenderJob, progress: ProgressCallback | None = None) -> RenderStats:
            raise RenderError("rendering out.mp4 failed: ffmpeg exited with status -9")

    class CrashingRenderer(FFmpegRenderer):
        def engine(self) -> FFmpegEngine:
            return Crashing(self.config)

    script = parse_render_script(TINY)
    with pytest.raises(RendererError, match="status -9") as raised:
        CrashingRenderer().render(script, tmp_path / "out.mp4", media_dir=tmp_path)
    assert raised.value.retryable
