"""A calm background-music bed, synthesised locally (no stock library, no network).

Four soft pad chords (C, Am, F, G; 2 s each) with a gentle pulse, 8 s long so that it
loops seamlessly; 48 kHz stereo 16-bit. Deterministic: the same bytes every time.
"""

from __future__ import annotations

import wave
from pathlib import Path

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


def music_bed() -> np.ndarray:
    """The loop as float samples in [-1, 1], shape (frames, 2)."""
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


def write_music_bed(path: Path) -> Path:
    samples = (music_bed() * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(samples.tobytes())
    return path
