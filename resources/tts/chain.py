from __future__ import annotations

from pathlib import Path

from autoclip_core.schemas import Language
from resources.errors import TTSError
from resources.tts.base import SpeechClip, TTSResource
from resources.vendors.chain import first_that_answers, linked, unfold


class TTSChain(TTSResource):
    """Speech from the first provider of an ordered chain that answers.

    Held as ``first`` + ``rest`` links (``resources.vendors.chain.linked``); build it with
    ``TTSChain.of``.
    """

    names: list[str]
    first: TTSResource
    rest: TTSResource

    @classmethod
    def of(cls, providers: list[tuple[str, TTSResource]]) -> TTSResource:
        result: TTSResource = linked(cls, providers)
        return result

    def providers(self) -> list[tuple[str, TTSResource]]:
        return unfold(self)

    def voice_for(self, language: Language) -> str:
        """The voice of the first provider: the one meant to speak."""
        return self.first.voice_for(language)

    def synthesize(self, phrases: list[str], language: Language, out_wav: Path) -> SpeechClip:
        clip, _ = first_that_answers(
            "tts",
            self.providers(),
            lambda p: p.synthesize(phrases, language, out_wav),
            error=TTSError,
        )
        return clip
