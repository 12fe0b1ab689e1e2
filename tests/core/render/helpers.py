"""Media makers and measurements shared by the render-engine tests.

Frames and audio are read back with PyAV (there is no ffprobe); boxes are
``(left, top, right, bottom)`` in pixels, colours ``(r, g, b)``.
"""

from __future__ import annotations

import copy
import wave
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image, ImageDraw

from autoclip_core.render.captions import Word, write_transcript
from autoclip_core.render.engine import FFmpegEngine, RenderJob, RenderStats
from autoclip_core.render.music import write_music_bed
from autoclip_core.render.renderscript import parse_render_script

SAMPLE_RATE = 48_000
Box = tuple[int, int, int, int]
RGB = tuple[int, int, int]


# ---- media ----------------------------------------------------------------------------

W, H, FPS = 270, 480, 30
RED, GREEN, BLUE = (220, 20, 20), (0, 255, 0), (20, 20, 220)
WHITE, YELLOW, MAGENTA = (255, 255, 255), (255, 255, 0), (255, 0, 255)
VOICE_HZ = 3000.0
"""The test voice is a tone well above the music bed's chords (175-800 Hz)."""
MUSIC_BAND = (100.0, 900.0)


def write_test_media(folder: Path) -> Path:
    """Solid images, a voice (a tone while its two words are spoken) and the music bed."""
    write_image(folder / "red.png", RED)
    write_image(folder / "blue.png", BLUE)
    write_voice(
        folder / "voice.wav",
        3.0,
        [("Hello", 0.5, 1.0), ("world", 1.0, 2.0)],
        frequency=VOICE_HZ,
    )
    write_tone(folder / "unscripted.wav", 1.0)  # no transcript sidecar
    write_music_bed(folder / "music.wav")
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n but then nothing")
    (folder / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    return folder


def percent_box(element: dict[str, Any], size: tuple[int, int], margin: int = 0) -> Box:
    """The pixel box of an element placed with ``%`` x/y/width/height (anchor at its centre)."""
    w, h = size

    def share(key: str) -> float:
        return float(str(element[key]).rstrip("%")) / 100

    cx, cy, bw, bh = share("x") * w, share("y") * h, share("width") * w, share("height") * h
    return (
        max(round(cx - bw / 2) - margin, 0),
        max(round(cy - bh / 2) - margin, 0),
        min(round(cx + bw / 2) + margin, w),
        min(round(cy + bh / 2) + margin, h),
    )


# A small valid template; refusal, SSRF and CLI tests change one thing in it.
BASE: dict[str, Any] = {
    "width": W,
    "height": H,
    "frame_rate": FPS,
    "elements": [
        {"name": "Bg", "type": "image", "track": 1, "time": 0, "duration": 2,
         "source": "red.png"},
        {"name": "Voice", "type": "audio", "track": 2, "source": "voice.wav"},
        {"name": "Captions", "type": "text", "transcript_source": "Voice"},
    ],
}  # fmt: skip


def changed(index: int, **changes: Any) -> dict[str, Any]:
    """BASE with element ``index`` updated (a value of None removes the property)."""
    template = copy.deepcopy(BASE)
    element = template["elements"][index]
    element.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del element[key]
    return template


def plus(*elements: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """BASE (or ``base``) with ``elements`` appended: the first is ``elements[3]``."""
    template = copy.deepcopy(base or BASE)
    template["elements"].extend(copy.deepcopy(list(elements)))
    return template


def write_tone(
    path: Path,
    seconds: float,
    *,
    frequency: float = 440.0,
    amplitude: float = 0.3,
    active: tuple[float, float] | None = None,
    rate: int = SAMPLE_RATE,
) -> Path:
    """A mono 16-bit sine WAV, silent outside ``active`` (seconds) when given."""
    t = np.arange(round(seconds * rate)) / rate
    signal = amplitude * np.sin(2 * np.pi * frequency * t)
    if active is not None:
        signal *= (t >= active[0]) & (t < active[1])
    return write_wav(path, signal, rate)


def write_wav(path: Path, signal: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    """Samples in [-1, 1] as a mono 16-bit WAV."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((signal * 32767).astype("<i2").tobytes())
    return path


def write_voice(
    path: Path, seconds: float, words: list[tuple[str, float, float]], **tone: Any
) -> Path:
    """A tone sounding from the first word's start to the last word's end, with its sidecar."""
    write_tone(path, seconds, active=(words[0][1], words[-1][2]), **tone)
    write_transcript(path, [Word(text=text, start=start, end=end) for text, start, end in words])
    return path


def write_image(path: Path, color: RGB, size: tuple[int, int] = (320, 560)) -> Path:
    Image.new("RGB", size, color).save(path)
    return path


def write_dot_image(path: Path, size: tuple[int, int], dot: tuple[int, int], radius: int) -> Path:
    """Black with one white dot: a marker to follow under a zoom."""
    image = Image.new("RGB", size, (0, 0, 0))
    x, y = dot
    ImageDraw.Draw(image).ellipse([x - radius, y - radius, x + radius, y + radius], fill="white")
    image.save(path)
    return path


# ---- rendering ------------------------------------------------------------------------


@dataclass
class Rendered:
    template: dict[str, Any]
    video: Path
    stats: RenderStats
    snapshot: Path | None = None
    progress: list[float] = field(default_factory=list)


def render(
    template: dict[str, Any],
    folder: Path,
    name: str,
    *,
    media_dir: Path | None = None,
    snapshot: bool = False,
) -> Rendered:
    """Validate and render ``template`` to ``folder/name.mp4`` (media looked up in ``folder``)."""
    progress: list[float] = []
    video = folder / f"{name}.mp4"
    still = folder / f"{name}.png" if snapshot else None
    job = RenderJob(parse_render_script(copy.deepcopy(template)), video, media_dir or folder, still)
    stats = FFmpegEngine().render(job, progress.append)
    return Rendered(template, video, stats, still, progress)


# ---- frames -----------------------------------------------------------------------------


def frames_at(video: Path, times: Iterable[float]) -> dict[float, np.ndarray]:
    """The frames shown at ``times`` (seconds) as RGB arrays, decoded in one pass."""
    wanted = sorted(set(times))
    found: dict[float, np.ndarray] = {}
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        step = 1 / float(stream.average_rate)
        pending = list(wanted)
        for frame in container.decode(stream):
            assert frame.time is not None
            while pending and pending[0] < frame.time + step - 1e-6:
                found[pending.pop(0)] = frame.to_ndarray(format="rgb24")
            if not pending:
                break
    missing = [t for t in wanted if t not in found]
    assert not missing, f"{video.name} has no frame at {missing}"
    return found


def frame_at(video: Path, seconds: float) -> np.ndarray:
    return frames_at(video, [seconds])[seconds]


def crop(frame: np.ndarray, box: Box) -> np.ndarray:
    left, top, right, bottom = box
    return frame[top:bottom, left:right].astype(np.int32)


def count_color(frame: np.ndarray, box: Box, color: RGB, tolerance: int = 60) -> int:
    """Pixels in ``box`` within ``tolerance`` (per channel) of ``color``."""
    near = np.abs(crop(frame, box) - np.array(color)) <= tolerance
    return int(near.all(axis=2).sum())


def mean_color(frame: np.ndarray, box: Box) -> RGB:
    r, g, b = crop(frame, box).reshape(-1, 3).mean(axis=0)
    return round(r), round(g), round(b)


def luma(frame: np.ndarray, box: Box) -> float:
    r, g, b = (crop(frame, box)[..., c].mean() for c in range(3))
    return float(0.299 * r + 0.587 * g + 0.114 * b)


def bright_centroid_x(frame: np.ndarray, box: Box, threshold: int = 200) -> float:
    """Mean x (in frame pixels) of the near-white pixels in ``box``."""
    bright = (crop(frame, box) >= threshold).all(axis=2)
    columns = np.nonzero(bright)[1]
    assert columns.size, "no bright pixels in the box"
    return float(box[0] + columns.mean())


def bright_centroid(frame: np.ndarray, box: Box, threshold: int = 128) -> tuple[float, float]:
    """Luma-weighted centre (in frame pixels) of the pixels above ``threshold`` in ``box``."""
    gray = crop(frame, box).mean(axis=2)
    weight = np.clip(gray - threshold, 0, None)
    assert weight.sum() > 0, "no bright pixels in the box"
    ys, xs = np.indices(weight.shape)
    total = weight.sum()
    return box[0] + float((xs * weight).sum() / total), box[1] + float((ys * weight).sum() / total)


# ---- audio ------------------------------------------------------------------------------


def decoded_audio(video: Path) -> np.ndarray:
    """The audio track as float samples, shape (channels, samples), at 48 kHz."""
    with av.open(str(video)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.sample_rate == SAMPLE_RATE
        chunks = [frame.to_ndarray() for frame in container.decode(stream)]
    return np.concatenate(chunks, axis=1).astype(np.float64)


def band_rms(samples: np.ndarray, start: float, end: float, low: float, high: float) -> float:
    """RMS of the ``low``..``high`` Hz band of the mono mix between ``start`` and ``end`` s."""
    window = samples.mean(axis=0)[round(start * SAMPLE_RATE) : round(end * SAMPLE_RATE)]
    spectrum = np.fft.rfft(window * np.hanning(window.size))
    frequencies = np.fft.rfftfreq(window.size, 1 / SAMPLE_RATE)
    band = (frequencies >= low) & (frequencies <= high)
    return float(np.sqrt((np.abs(spectrum[band]) ** 2).sum()) / window.size)
