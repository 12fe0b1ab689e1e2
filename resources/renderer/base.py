"""Renderer capability: a RenderScript (Creatomate's JSON template format) → an mp4.

The engine, its templates and their validation live in ``autoclip_core.render``; a provider
here is a thin Dagster resource that holds its engine's configuration and hands out the
engine (``engine()``): locally the ffmpeg engine, elsewhere a render service's client.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import dagster as dg

from autoclip_core.render.renderscript import RenderScript, TemplateError
from resources.errors import RendererError

if TYPE_CHECKING:
    from autoclip_core.render.engine import RenderEngine, RenderStats
    from autoclip_core.render.ffmpeg_binary import ProgressCallback


class RendererResource(dg.ConfigurableResource, ABC):
    renders_locally: ClassVar[bool] = False
    """Whether our own engine renders, drawing the captions from the narration's cues: only
    then can the post-render check judge caption coverage by those cues."""
    provider_name: ClassVar[str] = ""
    """The name a template's ``renderer`` (and ``AUTOCLIP_RENDERER_PROVIDER``) calls it by."""

    def chosen(self, name: str | None) -> RendererResource:
        """The renderer for a template that asks for ``name`` (its ``renderer``; None: any)."""
        if name is None or name == self.provider_name:
            return self
        raise RendererError(
            f"the template asks for the {name} renderer, which is not set up here (this "
            f"deployment renders with {self.provider_name or type(self).__name__})"
        )

    @abstractmethod
    def engine(self) -> RenderEngine:
        """The engine this provider renders with, built from the resource's configuration."""

    def render(
        self,
        script: RenderScript,
        out_mp4: Path,
        *,
        media_dir: Path,
        snapshot: Path | None = None,
        progress: ProgressCallback | None = None,
    ) -> RenderStats:
        """Render ``script`` (relative media sources resolved against ``media_dir``).

        A template the engine cannot render fails for good; a render that failed on the way
        (ffmpeg killed, a timeout) may succeed when tried again.
        """
        # The engine (numpy, PyAV, the graph builder) loads in the step that renders, not in
        # every run worker that loads the definitions (a publish run renders nothing).
        from autoclip_core.render.engine import RenderError, RenderJob

        job = RenderJob(script, out_mp4, media_dir, snapshot)
        try:
            return self.engine().render(job, progress)
        except TemplateError as exc:
            raise RendererError(f"the template cannot be rendered: {exc}") from exc
        except RenderError as exc:
            raise RendererError(str(exc), retryable=True) from exc
