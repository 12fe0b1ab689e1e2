from __future__ import annotations

import time

import pytest

from autoclip_core.render.ffmpeg_binary import FFmpegError, run_ffmpeg


def test_progress_is_reported_as_increasing_fractions_ending_at_one() -> None:
    fractions: list[float] = []
    run_ffmpeg(
        ["-f", "lavfi", "-i", "sine=d=2", "-f", "null", "-"],
        duration_s=2,
        progress=fractions.append,
    )
    assert fractions
    assert fractions == sorted(set(fractions))
    assert fractions[-1] == 1.0


def test_a_failing_run_raises_with_ffmpeg_last_words(tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "missing.mp4"
    with pytest.raises(FFmpegError, match="exited with status") as caught:
        run_ffmpeg(["-i", str(missing), "-f", "null", "-"])
    assert str(missing) in str(caught.value)


def test_a_run_past_its_timeout_is_killed() -> None:
    started = time.monotonic()
    with pytest.raises(FFmpegError, match=r"timed out after 0\.5 s"):
        run_ffmpeg(["-re", "-f", "lavfi", "-i", "sine=d=30", "-f", "null", "-"], timeout_s=0.5)
    assert time.monotonic() - started < 10
