"""The local renderer: RenderScript → one ffmpeg filter graph → mp4."""

from resources.renderer.ffmpeg.renderer import FFmpegRenderer

__all__ = ["FFmpegRenderer"]
