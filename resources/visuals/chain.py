from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from resources.errors import VisualsError
from resources.vendors.chain import first_that_answers, linked, unfold
from resources.visuals.base import SceneCard, VisualResult, VisualsResource


class VisualsChain(VisualsResource):
    """Scene images from the first provider of an ordered chain that answers.

    Held as ``first`` + ``rest`` links (``resources.vendors.chain.linked``); build it with
    ``VisualsChain.of``.
    """

    names: list[str]
    first: VisualsResource
    rest: VisualsResource

    @classmethod
    def of(cls, providers: list[tuple[str, VisualsResource]]) -> VisualsResource:
        result: VisualsResource = linked(cls, providers)
        return result

    def providers(self) -> list[tuple[str, VisualsResource]]:
        return unfold(self)

    def fingerprint_inputs(self) -> str:
        return "|".join(f"{n}:{p.fingerprint_inputs()}" for n, p in self.providers())

    def scene_image(self, card: SceneCard, out_path: Path) -> VisualResult:
        return self.first_answer(lambda p: p.scene_image(card, out_path))

    def scene_visual(self, card: SceneCard, image_path: Path, clip_path: Path) -> VisualResult:
        return self.first_answer(lambda p: p.scene_visual(card, image_path, clip_path))

    def first_answer(self, call: Callable[[VisualsResource], VisualResult]) -> VisualResult:
        result, _ = first_that_answers("visuals", self.providers(), call, error=VisualsError)
        return result
