"""How the local engine encodes (``EngineConfig``), apart from the engine: every run holds
it in the ``renderer`` resource, and only the process that renders needs the engine's imports
(numpy, PyAV, the graph builder).
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from autoclip_core.settings import Settings


class EngineConfig(BaseModel):
    """How the local engine encodes: what a deployment may tune (the output depends on it)."""

    model_config = ConfigDict(frozen=True)

    threads: int = Field(
        default=3,
        ge=1,
        description="x264 frame threads and filter threads; pinned, as the output depends on it.",
    )
    preset: str = Field(default="veryfast", description="x264 preset (veryfast/faster).")
    crf: int = Field(default=23, description="x264 constant rate factor (lower = better).")
    x264_params: str = Field(
        default="subme=1:partitions=i8x8,i4x4",
        description=(
            "Extra x264 options. subme=1 encodes ~30% faster, +5% size at equal SSIM. Without"
            " the 8x8 inter partitions (x264's superfast choice) x264 runs ~10% fewer"
            " instructions; measured at crf 23 on zoomed stills: -1.4% size, SSIM -0.0002;"
            " on a zoomed photo: -5.2% size, SSIM -0.00004 (a smooth zoom moves whole blocks)."
        ),
    )
    timeout_s: float = Field(default=900, description="Kill ffmpeg after this many seconds.")

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(threads=settings.render_threads)

    def video_args(self) -> list[str]:
        """The x264 encoder's arguments (the bench's encode-only floor uses the same)."""
        # Frame threads, each encoding a frame of its own: the graph thread and x264 keep both
        # cores busy (sliced threads, one frame split across threads, were ~15% slower here).
        # x264 stays deterministic with them (its default b_deterministic bounds lookahead and
        # motion search to what is certain whatever the timing), so the bytes depend only on
        # the thread count: same hash across renders on an idle and a loaded machine.
        x264_params = ":".join(filter(None, [f"threads={self.threads}", self.x264_params]))
        return [
            "-c:v", "libx264",
            "-preset", self.preset,
            "-crf", str(self.crf),
            "-pix_fmt", "yuv420p",
            "-threads", str(self.threads),
            "-x264-params", x264_params,
        ]  # fmt: skip
