"""Inspect media files: an ffprobe equivalent on PyAV, loudness via ffmpeg, frame grabs.

``probe`` demuxes every packet (no decoding, so it is fast) to catch files that open
fine but are cut short: a truncated mp4 keeps its index when ``+faststart`` put it first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from autoclip_core.render.ffmpeg_binary import FFmpegError, run_ffmpeg

if TYPE_CHECKING:
    import av
    from av.container import InputContainer

TRUNCATION_TOLERANCE_S = 0.1
"""How much earlier than declared a stream may end before the file counts as truncated."""


class CorruptMediaError(RuntimeError):
    """The file is missing, unreadable, or not valid media."""


class VideoInfo(BaseModel):
    width: int
    height: int
    fps: float | None
    codec: str
    pix_fmt: str | None
    frames: int = 0
    """Number of video packets demuxed (one per frame for the codecs we produce)."""


class AudioInfo(BaseModel):
    codec: str
    sample_rate: int
    channels: int


class MediaProbe(BaseModel):
    path: Path
    format_name: str
    duration: float
    size_bytes: int
    video: VideoInfo | None = None
    audio: AudioInfo | None = None


class LoudnessStats(BaseModel):
    integrated_lufs: float
    loudness_range_lu: float
    true_peak_dbfs: float


@dataclass
class _StreamExtent:
    """Where a stream's demuxed packets end, versus where its header says it ends."""

    declared_end: float | None
    demuxed_end: float = 0.0
    packets: int = 0
    frame_step: float = 0.0
    corrupt_packets: int = 0


def probe(path: Path) -> MediaProbe:
    """Container, video and audio facts about ``path``; CorruptMediaError if it is not sound."""
    # PyAV loads on the first probe: every run worker imports this module with the assets,
    # a publish run's too, which probes nothing.
    import av

    if not path.is_file():
        raise CorruptMediaError(f"{path}: no such file")
    try:
        with av.open(str(path)) as container:
            return _probe_container(path, container)
    except av.FFmpegError as exc:
        raise CorruptMediaError(f"{path}: unreadable media ({exc.strerror})") from exc


def _probe_container(path: Path, container: InputContainer) -> MediaProbe:
    import av  # loaded by ``probe``, the only caller

    video_stream = container.streams.video[0] if container.streams.video else None
    audio_stream = container.streams.audio[0] if container.streams.audio else None
    if video_stream is None and audio_stream is None:
        raise CorruptMediaError(f"{path}: no audio or video stream")
    extents = _demux_extents(container)
    _check_complete(path, extents)
    declared = container.duration / av.time_base if container.duration else None
    duration = declared or max(extent.demuxed_end for extent in extents.values())
    return MediaProbe(
        path=path,
        format_name=container.format.name,
        duration=duration,
        size_bytes=path.stat().st_size,
        video=_video_info(video_stream, extents[video_stream.index]) if video_stream else None,
        audio=_audio_info(audio_stream) if audio_stream else None,
    )


def _demux_extents(container: InputContainer) -> dict[int, _StreamExtent]:
    extents = {
        stream.index: _StreamExtent(declared_end=_declared_end(stream))
        for stream in container.streams
    }
    for packet in container.demux():
        extent = extents[packet.stream_index]
        if packet.pts is None or packet.time_base is None:
            continue
        start = float((packet.pts - (packet.stream.start_time or 0)) * packet.time_base)
        step = float(packet.duration * packet.time_base) if packet.duration else 0.0
        extent.packets += 1
        extent.frame_step = max(extent.frame_step, step)
        extent.demuxed_end = max(extent.demuxed_end, start + step)
        extent.corrupt_packets += int(packet.is_corrupt)
    return extents


def _declared_end(stream: av.stream.Stream) -> float | None:
    if stream.duration is None or stream.time_base is None:
        return None
    return float(stream.duration * stream.time_base)


def _check_complete(path: Path, extents: dict[int, _StreamExtent]) -> None:
    for index, extent in extents.items():
        if extent.corrupt_packets:
            raise CorruptMediaError(
                f"{path}: damaged or truncated, stream {index} has "
                f"{extent.corrupt_packets} corrupt packets"
            )
        if extent.declared_end is None:
            continue
        missing = extent.declared_end - extent.demuxed_end
        if missing > TRUNCATION_TOLERANCE_S + extent.frame_step:
            raise CorruptMediaError(
                f"{path}: truncated, stream {index} ends at {extent.demuxed_end:.2f} s "
                f"of {extent.declared_end:.2f} s"
            )


def _rate(value: Fraction | None) -> float | None:
    return float(value) if value else None


def _video_info(stream: av.video.stream.VideoStream, extent: _StreamExtent) -> VideoInfo:
    context = stream.codec_context
    return VideoInfo(
        width=context.width,
        height=context.height,
        fps=_rate(stream.average_rate) or _rate(stream.guessed_rate),
        codec=context.name,
        pix_fmt=context.pix_fmt,
        frames=extent.packets,
    )


def _audio_info(stream: av.audio.stream.AudioStream) -> AudioInfo:
    context = stream.codec_context
    return AudioInfo(codec=context.name, sample_rate=context.sample_rate, channels=context.channels)


_SUMMARY_VALUE = re.compile(r"^\s*(I|LRA|Peak):\s+(-?(?:\d+(?:\.\d+)?|inf))\s", re.MULTILINE)
EBUR128_FILTER = "ebur128=peak=true:framelog=quiet"
"""Measures loudness; its summary (ffmpeg's log at level info) is read by ``loudness_summary``."""
LOUDNESS_ONLY_FILTER = "ebur128=peak=sample:framelog=quiet"
"""``EBUR128_FILTER`` without the true peak's 4x oversampling (0.05 s per 30 s, not 0.13):
its summary's ``true_peak_dbfs`` is then the sample peak."""


def loudness_summary(stderr_lines: Iterable[str]) -> LoudnessStats | None:
    """The measurements in the summary the filters above log (None if there is none)."""
    values = {key: float(number) for key, number in _SUMMARY_VALUE.findall("\n".join(stderr_lines))}
    if not {"I", "LRA", "Peak"} <= values.keys():
        return None
    return LoudnessStats(
        integrated_lufs=values["I"], loudness_range_lu=values["LRA"], true_peak_dbfs=values["Peak"]
    )


def measure_loudness(path: Path, *, timeout_s: float = 300.0) -> LoudnessStats:
    """EBU R128 integrated loudness, loudness range and true peak of ``path``'s audio."""
    if not path.is_file():
        raise CorruptMediaError(f"{path}: no such file")
    args = ["-i", str(path), "-vn", "-af", EBUR128_FILTER, "-f", "null", "-"]
    try:
        run = run_ffmpeg(args, timeout_s=timeout_s)
    except FFmpegError as exc:
        raise CorruptMediaError(f"{path}: cannot measure loudness ({exc})") from exc
    stats = loudness_summary(run.stderr_tail)
    if stats is None:
        raise CorruptMediaError(f"{path}: no loudness summary in ffmpeg output")
    return stats


def extract_frame(path: Path, t: float, out_png: Path, *, timeout_s: float = 120.0) -> Path:
    """Write the video frame shown at ``t`` seconds to ``out_png``."""
    if not path.is_file():
        raise CorruptMediaError(f"{path}: no such file")
    if not math.isfinite(t) or t < 0:
        raise ValueError(f"frame time must be a non-negative number, got {t}")
    args = ["-ss", f"{t:.3f}", "-i", str(path), "-frames:v", "1", "-update", "1", "-y"]
    args.append(str(out_png))
    try:
        run_ffmpeg(args, timeout_s=timeout_s)
    except FFmpegError as exc:
        raise CorruptMediaError(f"{path}: cannot extract a frame at {t:.3f} s ({exc})") from exc
    if not out_png.is_file():
        raise CorruptMediaError(f"{path}: no frame at {t:.3f} s")
    return out_png
