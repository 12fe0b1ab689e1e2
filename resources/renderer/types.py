"""What every renderer returns or raises, free of Dagster so the CLI starts fast."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

ProgressFn = Callable[[float], None]
"""Called with the fraction done (0..1) while rendering."""


class RenderStats(BaseModel):
    duration: float
    render_seconds: float
    size_bytes: int
    command: list[str]


class RenderError(RuntimeError):
    pass
