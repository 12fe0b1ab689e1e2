from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from autoclip_core.render.ffmpeg_binary import run_ffmpeg
from autoclip_core.render.probe import CorruptMediaError, extract_frame, measure_loudness, probe


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def good_mp4(media_dir: Path) -> Path:
    """One second of 160x120 30 fps H.264 with AAC audio, index first (``+faststart``)."""
    path = media_dir / "good.mp4"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=30:d=1",
         "-f", "lavfi", "-i", "sine=f=440:d=1:sample_rate=48000",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-movflags", "+faststart", "-y", str(path)]
    )  # fmt: skip
    return path


def test_probe_reports_the_streams_of_a_good_file(good_mp4: Path) -> None:
    media = probe(good_mp4)
    assert media.duration == pytest.approx(1.0, abs=0.05)
    assert "mp4" in media.format_name
    assert media.size_bytes == good_mp4.stat().st_size
    assert media.video is not None
    assert (media.video.codec, media.video.pix_fmt) == ("h264", "yuv420p")
    assert (media.video.width, media.video.height, media.video.fps) == (160, 120, 30.0)
    assert media.video.frames == 30
    assert media.audio is not None
    assert (media.audio.codec, media.audio.sample_rate, media.audio.channels) == ("aac", 48000, 1)


def test_probe_of_a_wav_has_audio_only(media_dir: Path) -> None:
    wav = media_dir / "tone.wav"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=d=1.5:sample_rate=24000", "-y", str(wav)])
    media = probe(wav)
    assert media.video is None
    assert media.audio is not None
    assert media.audio.sample_rate == 24000
    assert media.duration == pytest.approx(1.5, abs=0.01)


def test_random_bytes_are_corrupt_media(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(os.urandom(20_000))
    with pytest.raises(CorruptMediaError, match=r"junk\.mp4"):
        probe(junk)


def test_a_truncated_mp4_is_corrupt_media(good_mp4: Path, tmp_path: Path) -> None:
    data = good_mp4.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(CorruptMediaError, match=r"cut\.mp4: .*truncated"):
        probe(cut)


def test_a_missing_file_is_corrupt_media(tmp_path: Path) -> None:
    with pytest.raises(CorruptMediaError, match="no such file"):
        probe(tmp_path / "nothing.mp4")


def test_loudness_of_a_half_scale_sine_is_what_ebu_r128_predicts(tmp_path: Path) -> None:
    """A 1 kHz sine peaking at -6 dBFS measures about -9 LUFS (sine RMS is 3 dB below peak)."""
    wav = tmp_path / "sine.wav"
    run_ffmpeg(["-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*1000*t):s=48000:d=5", "-y", str(wav)])
    stats = measure_loudness(wav)
    assert stats.integrated_lufs == pytest.approx(-9.0, abs=0.7)
    assert stats.true_peak_dbfs == pytest.approx(-6.0, abs=0.5)
    assert stats.loudness_range_lu == pytest.approx(0.0, abs=0.5)


def test_extract_frame_writes_the_frame_as_png(good_mp4: Path, tmp_path: Path) -> None:
    out = extract_frame(good_mp4, 0.5, tmp_path / "frame.png")
    with Image.open(out) as frame:
        assert frame.size == (160, 120)
