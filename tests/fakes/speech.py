"""Stand-in speech for the fake TTS vendors: a tone per character, with silence around it.

Real voices leave some silence before and after the words; so does this, so a provider that
trims silence is exercised. Every character (a space too) lasts ``CHAR_S``: a test can work
out exactly where each character was spoken.
"""

from __future__ import annotations

import array
import io
import math
import wave

CHAR_S = 0.05
LEAD_S = 0.2
TAIL_S = 0.3
AMPLITUDE = 8000


def speech_samples(text: str, sample_rate: int) -> array.array[int]:
    """Mono 16-bit samples: ``LEAD_S`` of silence, ``CHAR_S`` per character, ``TAIL_S``."""
    per_char = round(CHAR_S * sample_rate)
    samples = array.array("h", bytes(2 * round(LEAD_S * sample_rate)))
    for char in text:
        if char.isspace():
            samples.extend(array.array("h", bytes(2 * per_char)))
        else:
            samples.extend(
                round(AMPLITUDE * math.sin(2 * math.pi * 220 * i / sample_rate))
                for i in range(per_char)
            )
    samples.extend(array.array("h", bytes(2 * round(TAIL_S * sample_rate))))
    return samples


def speech_seconds(text: str) -> float:
    """How long ``text`` sounds, from its first to its last character (silence excluded)."""
    return len(text.strip()) * CHAR_S


def wav_bytes(samples: array.array[int], sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(samples.tobytes())
    return buffer.getvalue()
