"""Real mp4 files for the video vendors' fakes, made by the bundled ffmpeg when first asked
for and kept for the test session (the same size and length give the same bytes)."""

from __future__ import annotations

import subprocess
import tempfile
from functools import cache
from pathlib import Path

from autoclip_core.render.ffmpeg_binary import ffmpeg_exe


@cache
def make_mp4(width: int, height: int, fps: float, duration: float) -> bytes:
    """A small real H.264/AAC mp4 (test pattern, 440 Hz tone)."""
    with tempfile.TemporaryDirectory(prefix="fake-clip-") as tmp:
        out = Path(tmp) / "clip.mp4"
        subprocess.run(
            [
                ffmpeg_exe(), "-y", "-loglevel", "error",
                "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps:g}",
                "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                "-t", f"{duration:g}",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-b:a", "64k",
                "-shortest", str(out),
            ],
            check=True,
            timeout=120,
        )  # fmt: skip
        return out.read_bytes()


def truncated(data: bytes) -> bytes:
    """The first half of a file: what a download cut short leaves."""
    return data[: len(data) // 2]
