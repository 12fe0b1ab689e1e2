"""The local ffmpeg engine as the pipeline's ``renderer`` resource."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import dagster as dg

from autoclip_core.render.engine_config import EngineConfig
from autoclip_core.settings import Settings
from resources.renderer.base import RendererResource

if TYPE_CHECKING:
    from autoclip_core.render.engine import FFmpegEngine


class FFmpegEngineConfig(EngineConfig, dg.Config):
    """The engine's ``EngineConfig`` as Dagster config (settable per run in the launchpad)."""


class FFmpegRenderer(RendererResource):
    """Renders on this machine with one ffmpeg graph (``autoclip_core.render.engine``)."""

    renders_locally: ClassVar[bool] = True
    provider_name: ClassVar[str] = "ffmpeg"
    config: FFmpegEngineConfig = FFmpegEngineConfig()

    @classmethod
    def from_settings(cls, settings: Settings) -> FFmpegRenderer:
        return cls(config=FFmpegEngineConfig.from_settings(settings))

    def engine(self) -> FFmpegEngine:
        from autoclip_core.render.engine import FFmpegEngine  # see RendererResource.render

        return FFmpegEngine(self.config)
