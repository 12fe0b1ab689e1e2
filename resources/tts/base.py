from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import dagster as dg
from pydantic import BaseModel

from autoclip_core.schemas import CaptionCue, Language
from resources.errors import TTSError


class SpeechClip(BaseModel):
    """Synthesised speech for a list of caption phrases; cue times are relative to the clip."""

    duration: float
    sample_rate: int
    cues: list[CaptionCue]


class TTSResource(dg.ConfigurableResource, ABC):
    """Text to speech. Implementations write a mono 16-bit PCM WAV; failures raise ``TTSError``."""

    @abstractmethod
    def voice_for(self, language: Language) -> str:
        """The voice id used for ``language`` (part of cache fingerprints)."""

    @abstractmethod
    def synthesize(self, phrases: list[str], language: Language, out_wav: Path) -> SpeechClip:
        """Speak ``phrases`` in order into ``out_wav``; one caption cue per phrase."""


def spoken_phrases(phrases: list[str]) -> list[str]:
    """The phrases to speak: stripped, empty ones left out; an error if none remains."""
    spoken = [phrase.strip() for phrase in phrases if phrase.strip()]
    if not spoken:
        raise TTSError("nothing to synthesise: every phrase is empty")
    return spoken


def for_language(language: Language, values: dict[str, str], what: str) -> str:
    """``values[language]``; an error naming ``what`` when the language has none."""
    if language not in values:
        raise TTSError(f"no {what} for language {language!r}")
    return values[language]
