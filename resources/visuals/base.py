from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Literal

import dagster as dg
from pydantic import BaseModel, Field

from autoclip_core.schemas import Credit, Language


class SceneCard(BaseModel):
    """What a scene's visual must show."""

    headline: str
    query: str
    keywords: list[str]
    title: str
    language: Language
    index: int
    total: int
    width: int
    height: int
    avoid: list[str] = Field(
        default_factory=list, description="Source ids of pictures this video already shows."
    )
    clip_seconds: float | None = Field(
        default=None,
        gt=0,
        description="About how long the scene is on screen: a provider of video clips may "
        "give one at least this long. None: the card takes a still picture only.",
    )


class VisualResult(BaseModel):
    origin: Literal["generated", "library", "stock", "ai"]
    matched_file: str | None = None
    source_id: str | None = None
    credit: Credit | None = None
    clip: bool = False
    """A video clip was written to the clip path, and the image is the transparent overlay
    (headline, veil) laid over it."""


class VisualsResource(dg.ConfigurableResource, ABC):
    """Scene images. Failures raise ``VisualsError``."""

    @abstractmethod
    def fingerprint_inputs(self) -> str:
        """A string that changes whenever this provider's output for the same card would."""

    @abstractmethod
    def scene_image(self, card: SceneCard, out_path: Path) -> VisualResult:
        """Write a ``card.width`` x ``card.height`` PNG/JPEG for the scene to ``out_path``."""

    def scene_visual(self, card: SceneCard, image_path: Path, clip_path: Path) -> VisualResult:
        """The scene's picture at ``image_path``; a provider of video clips may instead write
        a clip to ``clip_path`` and the overlay to lay over it to ``image_path``
        (``VisualResult.clip``). Providers of stills only answer ``scene_image``."""
        return self.scene_image(card, image_path)
