"""OpenAI speech (``POST /v1/audio/speech``) over the shared vendor HTTP client.

The answer is audio only, no timings: each caption phrase is its own request (see
``phrasewise``). ``response_format: pcm`` is raw signed 16-bit little-endian mono at 24 kHz,
so nothing needs decoding.
"""

from __future__ import annotations

import array
from typing import Any, ClassVar

import httpx
from pydantic import Field

from autoclip_core.schemas import Language
from resources.errors import TTSError
from resources.tts.base import for_language
from resources.tts.paid import paid_answer
from resources.tts.pcm import from_s16le
from resources.tts.phrasewise import PhrasewiseTTS
from resources.vendors.base import VendorResource
from resources.vendors.cache import AnswerCache
from resources.vendors.http import error_text
from resources.vendors.usage import priced

PROVIDER = "openai"
REQUEST_VERSION = "audio-speech-1"
PCM_SAMPLE_RATE = 24_000
MAX_INPUT_CHARS = 4096


class OpenAITTS(PhrasewiseTTS, VendorResource):
    """OpenAI text to speech, one request per caption phrase."""

    vendor: ClassVar[str] = PROVIDER
    model: str = Field(default="tts-1", description="tts-1, tts-1-hd or gpt-4o-mini-tts.")
    voice_en: str = Field(default="alloy", description="Voice for English.")
    voice_ko: str = Field(
        default="alloy", description="Voice for Korean (voices are multilingual)."
    )

    def voice_for(self, language: Language) -> str:
        return for_language(language, {"en": self.voice_en, "ko": self.voice_ko}, "OpenAI voice")

    def speak(self, phrase: str, language: Language) -> tuple[array.array[int], int]:
        body = request_body(phrase, self.model, self.voice_for(language))
        audio = paid_answer(
            self.answer_cache(),
            AnswerCache.key(PROVIDER, self.model, REQUEST_VERSION, body),
            lambda: self._fetch(body),
            priced(PROVIDER, self.model, {"characters": len(phrase)}),
        )
        return from_s16le(audio), PCM_SAMPLE_RATE

    def _fetch(self, body: dict[str, Any]) -> bytes:
        with self.vendor_client() as client:
            response = client.send(
                speech_request(self.base_url, self.api_key, body),
                error=TTSError,
                parse_error=error_message,
            )
        from_s16le(response.content)  # a broken answer fails here, before it is cached
        return response.content


def request_body(text: str, model: str, voice: str) -> dict[str, Any]:
    if len(text) > MAX_INPUT_CHARS:
        raise TTSError(f"{PROVIDER}: a phrase of {len(text)} characters exceeds {MAX_INPUT_CHARS}")
    return {"model": model, "input": text, "voice": voice, "response_format": "pcm"}


def speech_request(base_url: str, api_key: str, body: dict[str, Any]) -> httpx.Request:
    return httpx.Request(
        "POST",
        f"{base_url.rstrip('/')}/v1/audio/speech",
        headers={"Authorization": f"Bearer {api_key}"},
        json=body,
    )


def error_message(response: httpx.Response) -> str:
    """OpenAI's ``{error: {message, type, code}}``, else the body's text."""
    error = response.json().get("error")
    if not isinstance(error, dict) or not error.get("message"):
        return error_text(response)
    kind = error.get("code") or error.get("type")
    return f"{error['message']} ({kind})" if kind else str(error["message"])
