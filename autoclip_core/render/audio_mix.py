"""Audio elements → one stereo 48 kHz mix, measured for loudness normalisation.

A short ffmpeg pass before the video: every audio element (and the sound of video
elements) is trimmed, looped, faded, set to its ``volume`` and delayed to its time; an
element with ``duck_under`` goes through ``sidechaincompress`` keyed by that voice, so
music dips while someone speaks. The mix is written as a float WAV and measured by
``ebur128`` (0.13 s of CPU per 30 s, where ``loudnorm``'s first pass took 0.9 s: it
resamples to 192 kHz); the video pass then applies the measured loudness correction to −14
LUFS integrated (true peak ≤ −1.5 dBTP), the level YouTube and TikTok normalise to. When the
correction needs a peak limiter, the limited mix is measured again and its gain raised by
what the limiter took (``settle_limited``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autoclip_core.render.ffmpeg_binary import run_ffmpeg
from autoclip_core.render.probe import (
    EBUR128_FILTER,
    LOUDNESS_ONLY_FILTER,
    LoudnessStats,
    loudness_summary,
)
from autoclip_core.render.renderscript import AudioElement, VideoElement, percent
from autoclip_core.render.timeline import Placed

SAMPLE_RATE = 48_000
TARGET_LUFS = -14.0
TARGET_TRUE_PEAK = -1.5
LIMITER_MARGIN_DB = 0.5
LIMITED_PASSES = 3
"""Gain raises tried at most after the limited mix falls short of the target."""
MIN_STEP_LU = 0.25
"""A raise that brings the limited mix less than this much closer is not kept."""
SETTLED_LU = 0.5
"""A limited mix this close to ``TARGET_LUFS`` is left as it is."""
MAX_EXTRA_GAIN_DB = 12.0
"""Most gain added for what the limiter took (a mix of bare peaks cannot get louder)."""
DUCK = "sidechaincompress=threshold=0.02:ratio=8:attack=15:release=350:makeup=1"


@dataclass(frozen=True)
class LoudnessCorrection:
    gain_db: float
    limit: bool
    """Whether a peak limiter follows the gain (its ceiling under the true-peak target)."""

    @property
    def filter(self) -> str:
        gain = f"volume={self.gain_db:.3f}dB"
        if not self.limit:
            return gain
        ceiling = 10 ** ((TARGET_TRUE_PEAK - LIMITER_MARGIN_DB) / 20)
        return f"{gain},alimiter=limit={ceiling:.4f}:level=false:attack=5:release=50"


@dataclass(frozen=True)
class AudioMix:
    wav: Path
    normalise: str | None
    """The ``-af`` filter that brings the mix to −14 LUFS (None for silence)."""


def _sounding(placed: list[Placed], origin: float = 0.0) -> list[tuple[Placed, float]]:
    """Audio-bearing elements with their absolute start, compositions included."""
    out: list[tuple[Placed, float]] = []
    for item in placed:
        if isinstance(item.element, AudioElement):
            out.append((item, origin + item.start))
        elif isinstance(item.element, VideoElement) and item.media is not None:
            out.append((item, origin + item.start))
        if item.children:
            out.extend(_sounding(item.children, origin + item.start))
    return out


def mix_audio(placed: list[Placed], duration: float, workdir: Path, timeout_s: float) -> AudioMix:
    """Render the mix to ``workdir/mix.wav`` and measure it."""
    wav = workdir / "mix.wav"
    sources = [
        (item, start)
        for item, start in _sounding(placed)
        if isinstance(item.element, AudioElement) or item.media_has_audio
    ]
    sources = [(i, s) for i, s in sources if percent(i.element.volume, 1.0) > 0]
    if not sources:
        run_ffmpeg(
            [
                "-y", "-loglevel", "error",
                "-f", "lavfi", "-i", f"anullsrc=r={SAMPLE_RATE}:cl=stereo",
                "-t", f"{duration:.6f}", "-c:a", "pcm_f32le", str(wav),
            ],
            timeout_s=timeout_s,
        )  # fmt: skip
        return AudioMix(wav, None)
    chains: list[str] = []
    labels: dict[str, str] = {}
    by_name = {i.element.name: n for n, (i, _) in enumerate(sources) if i.element.name}
    for n, (item, start) in enumerate(sources):
        element = item.element
        assert isinstance(element, AudioElement | VideoElement)
        assert item.media is not None
        # Sources are read inside the graph (amovie), not as -i inputs: -i inputs are
        # decoded on threads of their own, and sidechaincompress's output then depended on
        # which of its inputs delivered first (a mix that differed run to run).
        link = workdir / f"source{n}{item.media.suffix}"
        link.unlink(missing_ok=True)
        link.symlink_to(item.media.resolve())
        length = item.duration
        steps = [
            f"amovie=filename={link.name}:loop={0 if element.loop else 1}"
            f":seek_point={element.trim_start or 0:.3f}",
            f"aresample={SAMPLE_RATE}",
            "aformat=sample_fmts=fltp:channel_layouts=stereo",
            f"atrim=duration={length:.6f}",
            "asetpts=PTS-STARTPTS",
            f"volume={percent(element.volume, 1.0):.4f}",
        ]
        if element.audio_fade_in:
            steps.append(f"afade=t=in:st=0:d={min(element.audio_fade_in, length):.4f}")
        if element.audio_fade_out:
            fade = min(element.audio_fade_out, length)
            steps.append(f"afade=t=out:st={length - fade:.4f}:d={fade:.4f}")
        steps.append(f"adelay=delays={round(start * 1000)}:all=1")
        steps.append(f"apad=whole_dur={duration:.6f}")
        chains.append(f"{','.join(steps)}[a{n}]")
        labels[str(n)] = f"a{n}"

    def voice_of(item: Placed) -> int | None:
        """The index of the voice ``item`` ducks under (None: not ducked, or voice silent)."""
        if not isinstance(item.element, AudioElement) or not item.element.duck_under:
            return None
        return by_name.get(item.element.duck_under)

    voices = {v for i, _ in sources if (v := voice_of(i)) is not None}
    for voice in voices:
        users = [n for n, (i, _) in enumerate(sources) if voice_of(i) == voice]
        outs = [f"a{voice}mix"] + [f"a{voice}key{u}" for u in users]
        chains.append(f"[a{voice}]asplit={len(outs)}" + "".join(f"[{o}]" for o in outs))
        labels[str(voice)] = outs[0]
        for user, key in zip(users, outs[1:], strict=True):
            # The key never ends (apad): the ducked music keeps its own full length.
            chains.append(f"[{key}]apad[{key}p]")
            chains.append(f"[{labels[str(user)]}][{key}p]{DUCK}[a{user}ducked]")
            labels[str(user)] = f"a{user}ducked"
    mixed = "".join(f"[{labels[str(n)]}]" for n in range(len(sources)))
    chains.append(
        f"{mixed}amix=inputs={len(sources)}:duration=longest:normalize=0:dropout_transition=0,"
        f"atrim=duration={duration:.6f},asplit=2[mix][measure]"
    )
    chains.append(f"[measure]{EBUR128_FILTER}[measured]")
    graph = workdir / "audio_graph.txt"
    graph.write_text(";\n".join(chains) + "\n", encoding="utf-8")
    run = run_ffmpeg(
        [
            "-y", "-loglevel", "info",
            "-/filter_complex", graph.name,
            "-map", "[mix]", "-c:a", "pcm_f32le", str(wav),
            "-map", "[measured]", "-f", "null", "-",
        ],
        timeout_s=timeout_s,
        cwd=workdir,
    )  # fmt: skip
    correction = loudness_correction(loudness_summary(run.stderr_tail))
    if correction is not None and correction.limit:
        correction = settle_limited(wav, correction, timeout_s)
    return AudioMix(wav, correction.filter if correction else None)


def loudness_correction(measured: LoudnessStats | None) -> LoudnessCorrection | None:
    """The correction from the mix's measurements: a gain to −14 LUFS, and a peak limiter
    when the gain would lift the true peak over the target (None for silence).

    The limiter's ceiling sits ``LIMITER_MARGIN_DB`` under the target for the peaks between
    samples. The gain and limiter take 0.06 s of CPU per 30 s, where ``loudnorm``'s second
    pass (which resamples to 192 kHz) took 1.1 s.
    """
    if measured is None or measured.integrated_lufs <= -70:
        return None  # silence (ebur128's floor is -70 LUFS): nothing to normalise
    gain = TARGET_LUFS - measured.integrated_lufs
    return LoudnessCorrection(gain, limit=measured.true_peak_dbfs + gain > TARGET_TRUE_PEAK)


def settle_limited(wav: Path, first: LoudnessCorrection, timeout_s: float) -> LoudnessCorrection:
    """The limiter's gain reduction outlasts each peak, so a limited mix comes out quieter
    than its gain alone would make it: −14.7 LUFS for the bench's narration over music, 8 LU
    short for a quiet tone under dense bursts. Measure the limited mix (~0.05 s a pass) and
    raise the gain by what it lacks, scaled by what the last raise actually brought (a
    secant step), while raises still bring ``MIN_STEP_LU`` (a mix whose loudness is all in
    its peaks cannot get louder under the ceiling), within ``MAX_EXTRA_GAIN_DB``."""
    correction = first
    shortfall = _shortfall(wav, first, timeout_s)
    brought_per_db = 1.0
    for _ in range(LIMITED_PASSES):
        if shortfall is None or abs(shortfall) <= SETTLED_LU:
            break
        gain = correction.gain_db + shortfall / brought_per_db
        gain = min(gain, first.gain_db + MAX_EXTRA_GAIN_DB)
        candidate = LoudnessCorrection(gain, limit=True)
        after = _shortfall(wav, candidate, timeout_s)
        if after is None or abs(shortfall) - abs(after) < MIN_STEP_LU:
            break  # the limiter takes the raise: keep the cleaner correction
        brought_per_db = (shortfall - after) / (gain - correction.gain_db)
        correction, shortfall = candidate, after
    return correction


def _shortfall(wav: Path, correction: LoudnessCorrection, timeout_s: float) -> float | None:
    """How many LU the corrected mix lacks to reach ``TARGET_LUFS`` (negative: too loud)."""
    run = run_ffmpeg(
        ["-i", str(wav), "-af", f"{correction.filter},{LOUDNESS_ONLY_FILTER}", "-f", "null", "-"],
        timeout_s=timeout_s,
    )
    measured = loudness_summary(run.stderr_tail)
    return None if measured is None else TARGET_LUFS - measured.integrated_lufs
