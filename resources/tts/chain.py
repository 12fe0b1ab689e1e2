from __future__ import annotations

from pathlib import Path

from autoclip_core.schemas import Language
from resources.errors import TTSError
from resources.tts.base import SpeechClip, TTSResource
from resources.vendors.chain import first_that_answers, unfold


class TTSChain(TTSResource):
    """Speech from the first provider of an ordered chain that answers.

    Held as a linked list (``first``, then the ``rest`` of the chain) because Dagster binds
    nested resources by field, not in lists. Build it with ``TTSChain.of``.
    """

    names: list[str]
    first: TTSResource
    rest: TTSResource

    @classmethod
    def of(cls, providers: list[tuple[str, TTSResource]]) -> TTSResource:
        if len(providers) == 1:
            return providers[0][1]
        return cls(
            names=[n for n, _ in providers], first=providers[0][1], rest=cls.of(providers[1:])
        )

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
