"""The local engine as the pipeline's ``renderer`` resource; its config is the engine's."""

from __future__ import annotations

from pathlib import Path

from autoclip_core.renderscript.model import RenderScript
from autoclip_core.settings import Settings
from resources.renderer.base import RendererResource
from resources.renderer.ffmpeg.engine import FFmpegEngine
from resources.renderer.types import ProgressFn, RenderStats

ENGINE_FIELDS = FFmpegEngine.model_fields


class FFmpegRenderer(RendererResource):
    """Renders locally with one ffmpeg graph (``FFmpegEngine``)."""

    threads: int = ENGINE_FIELDS["threads"]
    preset: str = ENGINE_FIELDS["preset"]
    crf: int = ENGINE_FIELDS["crf"]
    x264_params: str = ENGINE_FIELDS["x264_params"]
    timeout_s: float = ENGINE_FIELDS["timeout_s"]

    @classmethod
    def from_settings(cls, settings: Settings) -> FFmpegRenderer:
        return cls(**FFmpegEngine.from_settings(settings).model_dump())

    def engine(self) -> FFmpegEngine:
        return FFmpegEngine(**{name: getattr(self, name) for name in ENGINE_FIELDS})

    def render(
        self,
        script: RenderScript,
        out_mp4: Path,
        *,
        media_dir: Path,
        snapshot: Path | None = None,
        progress: ProgressFn | None = None,
    ) -> RenderStats:
        return self.engine().render(
            script, out_mp4, media_dir=media_dir, snapshot=snapshot, progress=progress
        )
