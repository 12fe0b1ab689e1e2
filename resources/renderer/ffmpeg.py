"""The local ffmpeg engine as the pipeline's ``renderer`` resource."""

from __future__ import annotations

from typing import ClassVar

import dagster as dg

from autoclip_core.render.engine import EngineConfig, FFmpegEngine
from autoclip_core.settings import Settings
from resources.renderer.base import RendererResource


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
        return FFmpegEngine(self.config)
