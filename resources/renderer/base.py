"""Renderer capability: a RenderScript (Creatomate's JSON template format) → an mp4.

Templates and their validation live in ``autoclip_core.renderscript``; providers render a
validated ``RenderScript`` — locally with one ffmpeg graph, or on a render service.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import dagster as dg

from autoclip_core.renderscript.model import RenderScript
from resources.renderer.types import ProgressFn, RenderStats


class RendererResource(dg.ConfigurableResource, ABC):
    @abstractmethod
    def render(
        self,
        script: RenderScript,
        out_mp4: Path,
        *,
        media_dir: Path,
        snapshot: Path | None = None,
        progress: ProgressFn | None = None,
    ) -> RenderStats:
        """Render ``script`` (relative media sources resolved against ``media_dir``)."""
