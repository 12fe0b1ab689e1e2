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


class VisualResult(BaseModel):
    origin: Literal["generated", "library", "stock", "ai"]
    matched_file: str | None = None
    source_id: str | None = None
    credit: Credit | None = None


class VisualsResource(dg.ConfigurableResource, ABC):
    """Scene images. Failures raise ``VisualsError``."""

    @abstractmethod
    def fingerprint_inputs(self) -> str:
        """A string that changes whenever this provider's output for the same card would."""

    @abstractmethod
    def scene_image(self, card: SceneCard, out_path: Path) -> VisualResult:
        """Write a ``card.width`` x ``card.height`` PNG/JPEG for the scene to ``out_path``."""
