"""Renderers by template: the deployment's default renders every template that does not say,
and a template's ``"renderer"`` (``ffmpeg`` or ``creatomate``) picks another one set up here.
"""

from __future__ import annotations

from autoclip_core.render.engine import RenderEngine
from resources.errors import RendererError
from resources.renderer.base import RendererResource
from resources.vendors.chain import linked, unfold


class RendererChoice(RendererResource):
    """The renderers set up here by name, the default first; held as ``first`` + ``rest``
    links (``resources.vendors.chain.linked``). Build it with ``RendererChoice.of``."""

    names: list[str]
    first: RendererResource
    rest: RendererResource

    @classmethod
    def of(cls, renderers: list[tuple[str, RendererResource]]) -> RendererResource:
        """The choice among ``renderers`` (the default first); a single one as it is."""
        result: RendererResource = linked(cls, renderers)
        return result

    def renderers(self) -> list[tuple[str, RendererResource]]:
        return unfold(self)

    def engine(self) -> RenderEngine:
        return self.first.engine()

    def chosen(self, name: str | None) -> RendererResource:
        if name is None:
            return self.first
        for candidate, renderer in self.renderers():
            if candidate == name:
                return renderer
        raise RendererError(
            f"the template asks for the {name} renderer, which is not set up here (set up: "
            f"{', '.join(self.names)})"
        )
