"""Background music synthesised locally (no stock library, no network), deterministic: the
same bytes every time. 48 kHz stereo 16-bit WAV, on the chords C, Am, F, G (2 s each).

* ``music_bed``: the calm bed under the pipeline's videos. Soft pads with a gentle pulse,
  8 s long so that it loops seamlessly.
* ``beat_track``: a livelier track of any length: the chords plucked, over a kick on every
  beat and a hi-hat between the beats (the render bench's music).
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 48_000
CHORD_SECONDS = 2.0
CHORDS_HZ = (
    (261.63, 329.63, 392.00),  # C
    (220.00, 261.63, 329.63),  # Am
    (174.61, 220.00, 261.63),  # F
    (196.00, 246.94, 293.66),  # G
)
PULSE_PER_SECOND = 2
BEAT_SECONDS = 0.5


def music_bed() -> np.ndarray:
    """The loop as float samples in [-1, 1], shape (frames, 2)."""
    # numpy loads here, when the music is made: every run worker imports this module with
    # the assets, a publish run's too.
    import numpy as np

    per_chord = int(CHORD_SECONDS * SAMPLE_RATE)
    t = np.arange(per_chord) / SAMPLE_RATE
    envelope = np.minimum(1.0, t / 0.25) * np.minimum(1.0, (CHORD_SECONDS - t) / 0.25)
    pulse = 0.75 + 0.25 * np.cos(2 * np.pi * PULSE_PER_SECOND * t) ** 8
    chords = []
    for chord in CHORDS_HZ:
        tone = sum(np.sin(2 * np.pi * f * t) + 0.3 * np.sin(2 * np.pi * 2 * f * t) for f in chord)
        chords.append(tone * envelope * pulse)
    mono = np.concatenate(chords)
    mono /= np.abs(mono).max()
    detune = np.roll(mono, 240)  # a 5 ms offset widens the stereo image
    return np.stack([mono, 0.85 * mono + 0.15 * detune], axis=1) * 0.5


def beat_track(seconds: float) -> np.ndarray:
    """``seconds`` of the beat track as float samples in [-1, 1], shape (frames, 2), peaking
    at 0.6. The right channel's notes are 0.3 % sharp, which widens the stereo image."""
    import numpy as np  # see music_bed

    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    which = (t // CHORD_SECONDS).astype(int) % len(CHORDS_HZ)
    in_chord = t % CHORD_SECONDS
    envelope = np.minimum(in_chord / 0.05, 1) * np.exp(-in_chord * 0.6)
    left = np.zeros_like(t)
    right = np.zeros_like(t)
    for index, notes in enumerate(CHORDS_HZ):
        mask = which == index
        for note in notes:
            left[mask] += np.sin(2 * np.pi * note * t[mask])
            right[mask] += np.sin(2 * np.pi * note * 1.003 * t[mask])
    left *= 0.12 * envelope
    right *= 0.12 * envelope
    beat = t % BEAT_SECONDS
    kick = 0.5 * np.sin(2 * np.pi * 55 * beat) * np.exp(-beat * 14)
    off = (t + BEAT_SECONDS / 2) % BEAT_SECONDS
    hiss = np.random.default_rng(7).uniform(-1, 1, t.size)
    hat = 0.08 * hiss * np.exp(-off * 60)
    stereo = np.stack([left + kick + hat, right + kick + hat], axis=1)
    return np.clip(stereo / np.abs(stereo).max() * 0.6, -1, 1)


def write_wav(path: Path, samples: np.ndarray) -> Path:
    """Float stereo samples in [-1, 1], shape (frames, 2), as a 48 kHz 16-bit WAV."""
    pcm = (samples * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    return path


def write_music_bed(path: Path) -> Path:
    return write_wav(path, music_bed())


def write_beat_track(path: Path, seconds: float) -> Path:
    return write_wav(path, beat_track(seconds))
