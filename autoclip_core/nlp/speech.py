"""How long a text takes to say, per language: the speaking rates, stated once.

Length is counted in what speech time follows in each language: words in English, and
characters without spaces in Korean (one Hangul character is one syllable, while a
space-separated 어절 holds one to six of them, so a Korean word count says little).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from autoclip_core.schemas import Language


@dataclass(frozen=True)
class SpeakingRate:
    unit: Literal["words", "characters"]
    per_minute: int
    """Units spoken a minute, pauses between phrases and sentences not included."""


SPEAKING_RATES: dict[Language, SpeakingRate] = {
    # A usual narration pace. It is also the local TTS's rate setting: eSpeak counts it in
    # English words a minute for every voice.
    "en": SpeakingRate(unit="words", per_minute=165),
    # How fast eSpeak's Korean voice speaks at that setting (about 5 syllables a second).
    "ko": SpeakingRate(unit="characters", per_minute=300),
}


def spoken_units(text: str, language: Language) -> int:
    """The length of ``text`` in its language's unit (``SPEAKING_RATES[language].unit``)."""
    if SPEAKING_RATES[language].unit == "words":
        return len(text.split())
    return len("".join(text.split()))


def speaking_seconds(text: str, language: Language) -> float:
    """About how long ``text`` takes to speak aloud, pauses not included."""
    return spoken_units(text, language) * 60 / SPEAKING_RATES[language].per_minute
