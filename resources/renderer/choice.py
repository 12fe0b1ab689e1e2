"""Renderers by template: the deployment's default renders every template that does not say,
and a template's ``"renderer"`` (``ffmpeg`` or ``creatomate``) picks another one set up here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from resources.errors import RendererError
from resources.renderer.base import RendererResource
from resources.vendors.chain import unfold

if TYPE_CHECKING:
    from autoclip_core.render.engine import RenderEngine


class RendererChoice(RendererResource):
    """The renderers set up here by name, the default first, held as ``first`` + ``rest``
    links: build it with ``resources.vendors.chain.linked`` (one renderer stays itself)."""

    names: list[str]
    first: RendererResource
    rest: RendererResource

    def engine(self) -> RenderEngine:
        return self.first.engine()

    def chosen(self, name: str | None) -> RendererResource:
        if name is None:
            return self.first
        by_name: dict[str, RendererResource] = dict(unfold(self))
        if name not in by_name:
            raise RendererError(
                f"the template asks for the {name} renderer, which is not set up here (set "
                f"up: {', '.join(self.names)})"
            )
        return by_name[name]
