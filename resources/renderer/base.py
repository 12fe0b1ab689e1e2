"""Renderer capability: a render plan (timed scenes, audio, captions) → an mp4.

The plan is the engine's input; templates (RenderScript JSON) compile into it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

import dagster as dg
from pydantic import BaseModel, Field

from autoclip_core.schemas import CaptionCue

ProgressFn = Callable[[float], None]
"""Called with the fraction done (0..1) while rendering."""


class PlanScene(BaseModel):
    image: Path
    start: float = Field(ge=0)
    duration: float = Field(gt=0)
    zoom_from: float = 1.0
    zoom_to: float = 1.12


class RenderPlan(BaseModel):
    width: int
    height: int
    fps: int = 30
    scenes: list[PlanScene] = Field(min_length=1, description="Back to back, covering the video.")
    audio: Path = Field(description="Narration WAV; its length is the video's length.")
    captions: list[CaptionCue]
    font_family: str = "NanumGothic"
    fonts_dir: Path
    crossfade: float = Field(
        default=0.33, ge=0, description="Seconds of cross-dissolve between scenes; 0 cuts."
    )

    @property
    def duration(self) -> float:
        last = self.scenes[-1]
        return last.start + last.duration


class RenderStats(BaseModel):
    render_seconds: float
    command: list[str]


class RenderError(RuntimeError):
    pass


class RendererResource(dg.ConfigurableResource, ABC):
    @abstractmethod
    def render(
        self, plan: RenderPlan, out_mp4: Path, thumbnail: Path, progress: ProgressFn | None = None
    ) -> RenderStats: ...
