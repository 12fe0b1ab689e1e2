"""16-bit mono PCM shared by the providers that speak one caption phrase at a time.

A provider without word timings (eSpeak, OpenAI, Google) synthesises each phrase on its own,
cuts the silence around it and lays the phrases end to end: a cue's times are then sample
counts, exact by construction, whatever the voice does inside the phrase.
"""

from __future__ import annotations

import array
import io
import os
import sys
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

from autoclip_core.schemas import CaptionCue
from resources.errors import TTSError

SENTENCE_ENDINGS = (".", "!", "?", "…", "。", "\uff01", "\uff1f")  # + full-width ! ?
MIN_SPEECH_S = 0.05


@dataclass(frozen=True)
class Gaps:
    """Silence around and between phrases, in seconds."""

    edge_pad_s: float
    phrase_gap_s: float
    sentence_gap_s: float

    def after(self, phrase: str) -> float:
        return self.sentence_gap_s if phrase.endswith(SENTENCE_ENDINGS) else self.phrase_gap_s


def lay_out(
    phrases: list[str], speech: list[array.array[int]], sample_rate: int, gaps: Gaps
) -> tuple[array.array[int], list[CaptionCue]]:
    """Concatenate the phrases' speech with pads and gaps; cue each phrase where it lands."""
    audio = silence(gaps.edge_pad_s, sample_rate)
    cues: list[CaptionCue] = []
    for index, (phrase, samples) in enumerate(zip(phrases, speech, strict=True)):
        if index:
            audio.extend(silence(gaps.after(phrases[index - 1]), sample_rate))
        start = len(audio)
        audio.extend(samples)
        cues.append(
            CaptionCue(text=phrase, start=start / sample_rate, end=len(audio) / sample_rate)
        )
    audio.extend(silence(gaps.edge_pad_s, sample_rate))
    return audio, cues


def audible_part(
    samples: array.array[int], sample_rate: int, threshold: int, phrase: str, speaker: str
) -> array.array[int]:
    """``samples`` without leading and trailing silence; error if nothing audible remains."""
    bounds = loud_bounds(samples, threshold)
    if bounds is None or bounds[1] - bounds[0] + 1 < MIN_SPEECH_S * sample_rate:
        raise TTSError(f"{speaker} produced no audible speech for {phrase!r}")
    first, last = bounds
    return samples[first : last + 1]


def loud_bounds(samples: array.array[int], threshold: int) -> tuple[int, int] | None:
    """Indices of the first and last sample above ``threshold`` (None if there are none)."""
    loud = (i for i, sample in enumerate(samples) if abs(sample) > threshold)
    first = next(loud, None)
    if first is None:
        return None
    last = next(i for i in range(len(samples) - 1, first - 1, -1) if abs(samples[i]) > threshold)
    return first, last


def silence(seconds: float, sample_rate: int) -> array.array[int]:
    return array.array("h", bytes(2 * round(seconds * sample_rate)))


def from_s16le(data: bytes) -> array.array[int]:
    """Raw signed 16-bit little-endian samples (what vendors call PCM) as an array."""
    if len(data) % 2:
        raise TTSError(f"PCM audio has an odd number of bytes ({len(data)})")
    samples = array.array("h", data)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def read_wav_bytes(data: bytes) -> tuple[array.array[int], int]:
    """Samples and sample rate of a mono 16-bit PCM WAV held in memory."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            shape = (wav.getnchannels(), wav.getsampwidth())
            rate = wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as error:
        raise TTSError(f"the audio is not a readable WAV file: {error}") from error
    if shape != (1, 2):
        raise TTSError(f"expected mono 16-bit PCM, got {shape[0]} channel(s) of {shape[1]} bytes")
    return from_s16le(frames), rate


def write_wav(path: Path, samples: array.array[int], sample_rate: int) -> None:
    """Mono 16-bit PCM, written to a temporary name first so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with partial.open("wb") as file, wave.open(file, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(samples.tobytes())
    os.replace(partial, path)
