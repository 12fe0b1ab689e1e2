"""Speech from vendors that give no timings (OpenAI, Google): one request per caption phrase.

Each phrase's audio is cut to its audible part and the phrases are laid end to end with the
same pads and gaps as eSpeak's, so every cue's start and end are sample counts: exact by
construction, however the vendor paces the words inside a phrase. One whole-text request
aligned afterwards from the audio's pauses would misplace a cue wherever the voice does not
pause at a phrase boundary (see the README's Providers section for the measurement).
"""

from __future__ import annotations

import array
from abc import abstractmethod
from pathlib import Path

from pydantic import Field

from autoclip_core.schemas import Language
from resources.errors import TTSError
from resources.tts.base import SpeechClip, TTSResource, spoken_phrases
from resources.tts.pcm import Gaps, audible_part, lay_out, write_wav


class PhrasewiseTTS(TTSResource):
    """A vendor voice asked once per phrase; subclasses say how one phrase is spoken."""

    phrase_gap_s: float = Field(default=0.12, ge=0, description="Silence between phrases.")
    sentence_gap_s: float = Field(
        default=0.3, ge=0, description="Silence after a phrase that ends a sentence."
    )
    edge_pad_s: float = Field(
        default=0.15, ge=0, description="Silence before the first and after the last phrase."
    )
    silence_threshold: int = Field(
        default=300,
        ge=0,
        le=32767,
        description="Samples at or below this magnitude count as silence when trimming.",
    )

    def gaps(self) -> Gaps:
        return Gaps(self.edge_pad_s, self.phrase_gap_s, self.sentence_gap_s)

    @abstractmethod
    def speak(self, phrase: str, language: Language) -> tuple[array.array[int], int]:
        """One phrase's samples (silence around it included) and their sample rate."""

    def synthesize(self, phrases: list[str], language: Language, out_wav: Path) -> SpeechClip:
        spoken = spoken_phrases(phrases)
        speaker = f"{type(self).__name__} voice {self.voice_for(language)!r}"
        speech: list[array.array[int]] = []
        sample_rate = 0
        for phrase in spoken:
            samples, rate = self.speak(phrase, language)
            if sample_rate and rate != sample_rate:
                raise TTSError(f"{speaker} answered {rate} Hz after {sample_rate} Hz")
            sample_rate = rate
            speech.append(audible_part(samples, rate, self.silence_threshold, phrase, speaker))
        audio, cues = lay_out(spoken, speech, sample_rate, self.gaps())
        write_wav(out_wav, audio, sample_rate)
        return SpeechClip(duration=len(audio) / sample_rate, sample_rate=sample_rate, cues=cues)
