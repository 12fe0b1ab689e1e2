"""Renderer capability: a RenderScript (Creatomate's JSON template format) → an mp4.

Templates and their validation live in ``autoclip_core.renderscript``; providers render a
validated ``RenderScript`` — locally with one ffmpeg graph, or on a render service.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

import dagster as dg
from pydantic import BaseModel

from autoclip_core.renderscript.model import RenderScript

ProgressFn = Callable[[float], None]
"""Called with the fraction done (0..1) while rendering."""


class RenderStats(BaseModel):
    duration: float
    render_seconds: float
    size_bytes: int
    command: list[str]


class RenderError(RuntimeError):
    pass


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
